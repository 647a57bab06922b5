from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invoiceportal.invoices.extraction.errors import ExtractionError
from invoiceportal.invoices.extraction.types import FieldSource, InvoiceKind
from invoiceportal.invoices.extraction.xml_reader import read_xml
from tests.docgen.compare import NOT_IN_XML, assert_same_invoice
from tests.docgen.truth import DIGITAL_KINDS, random_invoice
from tests.docgen.xml_doc import VARIANTS, make_xml

# The real 数电专票 of domain/einvoice.md sections 4 and 9, written out by hand
# (not by the generator) so that the reader is checked against an independent text.
REAL_SPECIAL = """<?xml version="1.0" encoding="UTF-8"?>
<EInvoice>
  <Header>
    <EIid>24112000000048542163</EIid>
    <EInvoiceTag>SWEI1100</EInvoiceTag>
    <Version>0.1</Version>
    <InherentLabel>
      <InIssuType><LabelCode>Y</LabelCode><LabelName>蓝字发票</LabelName></InIssuType>
      <EInvoiceType><LabelCode>02</LabelCode><LabelName>电子发票</LabelName></EInvoiceType>
      <GeneralOrSpecialVAT>
        <LabelCode>01</LabelCode><LabelName>增值税专用发票</LabelName>
      </GeneralOrSpecialVAT>
    </InherentLabel>
  </Header>
  <EInvoiceData>
    <SellerInformation>
      <SellerIdNum>91110108690017781B</SellerIdNum>
      <SellerName>北京某某软件有限公司</SellerName>
      <SellerAddr>北京市海淀区</SellerAddr>
    </SellerInformation>
    <BuyerInformation>
      <BuyerIdNum>914403001922038216</BuyerIdNum>
      <BuyerName>华为技术有限公司</BuyerName>
    </BuyerInformation>
    <BasicInformation>
      <TotalAmWithoutTax>4197.17</TotalAmWithoutTax>
      <TotalTaxAm>251.83</TotalTaxAm>
      <TotalTax-includedAmount>4449.00</TotalTax-includedAmount>
      <TotalTax-includedAmountInChinese>肆仟肆佰肆拾玖圆整</TotalTax-includedAmountInChinese>
      <Drawer>王芳</Drawer>
      <RequestTime>2024-05-28 09:12:00</RequestTime>
    </BasicInformation>
    <IssuItemInformation>
      <ItemName>*信息技术服务*软件开发服务</ItemName>
      <SpecMod></SpecMod>
      <MeaUnits>项</MeaUnits>
      <Quantity>1</Quantity>
      <UnPrice>4197.169811320755</UnPrice>
      <Amount>4197.17</Amount>
      <TaxRate>0.06</TaxRate>
      <ComTaxAm>251.83</ComTaxAm>
      <TotaltaxIncludedAmount>4449.00</TotaltaxIncludedAmount>
      <TaxClassificationCode>3040201000000000000</TaxClassificationCode>
    </IssuItemInformation>
    <AdditionalInformation><Remark>合同号HT-2024-05</Remark></AdditionalInformation>
  </EInvoiceData>
  <TaxSupervisionInfo>
    <InvoiceNumber>24112000000048542163</InvoiceNumber>
    <IssueTime>2024-05-28 09:12:33</IssueTime>
    <TaxBureauCode>11100000000</TaxBureauCode>
  </TaxSupervisionInfo>
</EInvoice>
"""


def digital_invoices(count: int, start: int = 0):
    for seed in range(start, start + count):
        rng = random.Random(seed)
        yield random_invoice(rng, kind=rng.choice(DIGITAL_KINDS))


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_field_round_trips_through_every_variant(variant: int) -> None:
    for truth in digital_invoices(150):
        got = read_xml(make_xml(truth, variant=variant))
        assert_same_invoice(truth, got, skip=NOT_IN_XML)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), variant=st.sampled_from(VARIANTS))
def test_round_trip_property(seed: int, variant: int) -> None:
    rng = random.Random(seed)
    truth = random_invoice(rng, kind=rng.choice(DIGITAL_KINDS))
    assert_same_invoice(
        truth, read_xml(make_xml(truth, variant=variant)), skip=NOT_IN_XML
    )


def test_real_special_invoice_from_the_domain_page() -> None:
    inv = read_xml(REAL_SPECIAL.encode())

    assert inv.kind is InvoiceKind.DIGITAL_SPECIAL
    assert inv.number == "24112000000048542163"
    assert inv.identity == "24112000000048542163"
    assert inv.issue_date == dt.date(2024, 5, 28)
    assert inv.seller_tax_id == "91110108690017781B"
    assert inv.buyer_name == "华为技术有限公司"
    assert (inv.amount, inv.tax_amount, inv.total_amount) == (
        Decimal("4197.17"),
        Decimal("251.83"),
        Decimal("4449.00"),
    )
    assert inv.total_in_words == "肆仟肆佰肆拾玖圆整"
    assert inv.drawer == "王芳"
    assert inv.is_red is False
    [line] = inv.lines
    assert line.name == "*信息技术服务*软件开发服务"
    assert line.tax_rate == Decimal("0.06")
    assert line.unit_price == Decimal("4197.169811320755")
    assert line.tax_amount == Decimal("251.83")
    assert line.spec == ""


def test_every_field_found_has_an_xml_reading_of_full_confidence() -> None:
    inv = read_xml(REAL_SPECIAL.encode())

    expected = {
        "kind", "number", "issue_date", "seller_name", "seller_tax_id", "buyer_name",
        "buyer_tax_id", "amount", "tax_amount", "total_amount", "total_in_words",
        "drawer", "remarks", "is_red", "lines",
    }  # fmt: skip
    assert set(inv.readings) == expected
    assert {r.source for r in inv.readings.values()} == {FieldSource.XML}
    assert inv.min_confidence() == 1.0


def test_a_missing_field_has_no_reading() -> None:
    text = REAL_SPECIAL.replace("<Drawer>王芳</Drawer>", "")

    inv = read_xml(text.encode())

    assert inv.drawer == ""
    assert "drawer" not in inv.readings


@pytest.mark.parametrize(
    ("printed", "rate", "exempt"),
    [
        ("0.13", Decimal("0.13"), False),
        ("13%", Decimal("0.13"), False),
        ("0.130", Decimal("0.13"), False),
        ("6%", Decimal("0.06"), False),
        ("0", Decimal("0"), False),
        ("免税", None, True),
    ],
)
def test_rates_in_every_printed_form(
    printed: str, rate: Decimal | None, exempt: bool
) -> None:
    text = REAL_SPECIAL.replace(
        "<TaxRate>0.06</TaxRate>", f"<TaxRate>{printed}</TaxRate>"
    )

    [line] = read_xml(text.encode()).lines

    assert line.tax_rate == rate
    assert line.tax_exempt is exempt


def test_exempt_line_with_stars_for_tax_has_no_tax_amount() -> None:
    text = REAL_SPECIAL.replace("<TaxRate>0.06</TaxRate>", "<TaxRate>免税</TaxRate>")
    text = text.replace("<ComTaxAm>251.83</ComTaxAm>", "<ComTaxAm>***</ComTaxAm>")

    [line] = read_xml(text.encode()).lines

    assert line.tax_exempt and line.tax_rate is None and line.tax_amount is None


def _red_version(label_code: str, label_name: str = "") -> str:
    name = f"<LabelName>{label_name}</LabelName>" if label_name else ""
    text = REAL_SPECIAL.replace(
        "<InIssuType><LabelCode>Y</LabelCode><LabelName>蓝字发票</LabelName></InIssuType>",
        f"<InIssuType><LabelCode>{label_code}</LabelCode>{name}</InIssuType>",
    )
    return text.replace(
        "<AdditionalInformation>",
        "<SpecificInformation><RedEInvoice><OriginalInvoiceCode>"
        "24112000000011112222</OriginalInvoiceCode></RedEInvoice></SpecificInformation>"
        "<AdditionalInformation>",
    )


def test_red_letter_invoice_names_its_blue_invoice() -> None:
    inv = read_xml(_red_version("N", "红字发票").encode())

    assert inv.is_red is True
    assert inv.red_of_number == "24112000000011112222"
    assert inv.readings["is_red"].confidence == 1.0


def test_label_name_wins_over_label_code_for_red_letter() -> None:
    assert read_xml(_red_version("Y", "红字发票").encode()).is_red is True
    assert read_xml(_red_version("N", "蓝字发票").encode()).is_red is False


def test_blue_invoice_is_not_red_and_names_no_blue_invoice() -> None:
    inv = read_xml(REAL_SPECIAL.encode())

    assert inv.is_red is False
    assert inv.red_of_number == ""


def test_number_falls_back_to_tax_supervision_info() -> None:
    text = REAL_SPECIAL.replace("<EIid>24112000000048542163</EIid>", "")

    assert read_xml(text.encode()).number == "24112000000048542163"


def test_issue_date_falls_back_to_request_time() -> None:
    text = REAL_SPECIAL.replace("<IssueTime>2024-05-28 09:12:33</IssueTime>", "")
    text = text.replace("2024-05-28 09:12:00", "2024-05-27 23:59:00")

    assert read_xml(text.encode()).issue_date == dt.date(2024, 5, 27)


def test_line_amounts_do_not_leak_into_header_totals() -> None:
    # without BasicInformation totals, the line's TotaltaxIncludedAmount must not be
    # mistaken for the invoice's TotalTax-includedAmount (same normalized name)
    text = REAL_SPECIAL.replace(
        "<TotalTax-includedAmount>4449.00</TotalTax-includedAmount>", ""
    )

    assert read_xml(text.encode()).total_amount is None


def test_ordinary_label_gives_digital_ordinary() -> None:
    text = REAL_SPECIAL.replace(
        "<LabelCode>01</LabelCode><LabelName>增值税专用发票</LabelName>",
        "<LabelCode>02</LabelCode><LabelName>普通发票</LabelName>",
    )

    assert read_xml(text.encode()).kind is InvoiceKind.DIGITAL_ORDINARY


def test_gbk_encoded_file_is_read() -> None:
    text = REAL_SPECIAL.replace('encoding="UTF-8"', 'encoding="GBK"')

    inv = read_xml(text.encode("gbk"))

    assert inv.seller_name == "北京某某软件有限公司"


def test_legacy_invoice_xml_on_its_own_is_read() -> None:
    legacy = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<fp:eInvoice xmlns:fp="http://www.edrm.org.cn/schema/e-invoice/2019">'
        "<fp:InvoiceCode>033002000211</fp:InvoiceCode><fp:InvoiceNo>01234567</fp:InvoiceNo>"
        "<fp:IssueDate>2020年06月01日</fp:IssueDate>"
        "<fp:TaxExclusiveTotalAmount>100.00</fp:TaxExclusiveTotalAmount>"
        "</fp:eInvoice>"
    )

    inv = read_xml(legacy.encode())

    assert inv.kind is InvoiceKind.E_ORDINARY
    assert inv.identity == "033002000211:01234567"
    assert inv.issue_date == dt.date(2020, 6, 1)
    assert inv.readings["number"].source is FieldSource.XML


@pytest.mark.parametrize(
    "document",
    [
        b"<note><to>Tove</to><body>Don't forget me</body></note>",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>',
        b'<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody/></ofd:OFD>',
        b"<EInvoice><Header/></EInvoice>",
    ],
)
def test_xml_that_is_not_an_invoice_is_refused(document: bytes) -> None:
    with pytest.raises(ExtractionError) as exc:
        read_xml(document)

    assert exc.value.code == "not_an_invoice"


@pytest.mark.parametrize("cut", [10, 200, 1000, -20])
def test_truncated_xml_is_malformed(cut: int) -> None:
    with pytest.raises(ExtractionError) as exc:
        read_xml(REAL_SPECIAL.encode()[:cut])

    assert exc.value.code == "malformed_xml"
