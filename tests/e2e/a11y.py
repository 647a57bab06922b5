"""What a browser sees wrong on a page: sideways overflow, interface text left in
Chinese on an English page, and axe-core's serious or critical violations.

Data (names, items, messages people typed) is marked ``translate="no"`` in the
templates, the HTML way of saying "not interface text"; everything else on an English
page must be English.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "vendor" / "axe.min.js"

# Text nodes outside data, in CJK, with the element that holds them.
_CJK_SCRIPT = r"""
() => {
  const cjk = /[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]/;
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const text = node.nodeValue.trim();
    if (!text || !cjk.test(text)) continue;
    const el = node.parentElement;
    if (!el || el.closest('[translate="no"],script,style,template,noscript')) continue;
    if (el.closest('[hidden]')) continue;
    found.push(el.tagName.toLowerCase() + ': ' + text.slice(0, 60));
  }
  const labelled = '[aria-label],[title],[placeholder],input[type=submit][value]';
  for (const el of document.querySelectorAll(labelled)) {
    if (el.closest('[translate="no"]')) continue;
    for (const attr of ['aria-label', 'title', 'placeholder', 'value']) {
      const v = el.getAttribute(attr);
      if (v && cjk.test(v) && (attr !== 'value' || el.type === 'submit'))
        found.push(el.tagName.toLowerCase() + '[' + attr + ']: ' + v.slice(0, 60));
    }
  }
  return found;
}
"""


# The outermost elements wider than the viewport (their parent fits): the culprits.
_CULPRITS_SCRIPT = """
() => {
  const vw = window.innerWidth;
  const out = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className.trim()
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    const p = el.parentElement.getBoundingClientRect();
    if (r.right > vw + 1 && p.right <= vw + 1)
      out.push(Math.round(r.right) + ' ' + name(el));
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    if (!node.nodeValue.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const r = range.getBoundingClientRect();
    if (r.right > vw + 1 && !node.parentElement.closest('.table-responsive'))
      out.push(Math.round(r.right) + ' text in ' + name(node.parentElement) + ': '
        + node.nodeValue.trim().slice(0, 30));
  }
  return out.slice(0, 9);
}
"""


def overflow_culprits(page: Any) -> list[str]:
    """What makes a page too wide: the outermost elements past the viewport's right
    edge (their parent fits) and text running out of its box."""
    return page.evaluate(_CULPRITS_SCRIPT)


def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than its viewport (0 when it fits)."""
    return page.evaluate(
        "() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)"
    )


def untranslated_texts(page: Any) -> list[str]:
    return page.evaluate(_CJK_SCRIPT)


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")):
    """axe-core's violations of the given impacts, as (rule id, first target) pairs."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
          const r = await axe.run(document, {resultTypes: ['violations']});
          return r.violations.map(v => ({id: v.id, impact: v.impact,
            help: v.help, targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    return [v for v in result if v["impact"] in impacts]
