/* Review workbench: field boxes placed over the rendered pages, highlight on
   hover/focus, page navigation, fit-width zoom, the correction form prefilled from
   a field. No inline script (CSP); htmx may swap the fields panel, so the panel's
   handlers are bound by delegation on the document. */
(function () {
  "use strict";

  var ZOOMS = [0.5, 0.75, 1, 1.25, 1.5, 2, 3];
  var zoom = 1;

  function viewer() { return document.getElementById("wb-viewer"); }

  function placeBoxes() {
    document.querySelectorAll(".wb-box").forEach(function (box) {
      box.style.left = box.dataset.left + "%";
      box.style.top = box.dataset.top + "%";
      box.style.width = box.dataset.width + "%";
      box.style.height = box.dataset.height + "%";
    });
  }

  function targets(name) {
    var v = viewer();
    if (!v) return [];
    return Array.prototype.slice.call(
      v.querySelectorAll('.wb-box[data-field="' + name + '"], .wb-xml [data-field="' + name + '"]')
    );
  }

  function clear() {
    document.querySelectorAll(".wb-hl").forEach(function (el) { el.classList.remove("wb-hl"); });
    document.querySelectorAll(".wb-field.wb-active").forEach(function (el) { el.classList.remove("wb-active"); });
  }

  function highlight(row, scroll) {
    clear();
    if (!row) return;
    row.classList.add("wb-active");
    var found = targets(row.dataset.field);
    found.forEach(function (el) { el.classList.add("wb-hl"); });
    if (scroll && found.length) {
      var v = viewer();
      var el = found[0];
      var vr = v.getBoundingClientRect();
      var er = el.getBoundingClientRect();
      if (er.top < vr.top || er.bottom > vr.bottom || er.left < vr.left || er.right > vr.right) {
        v.scrollTop += er.top - vr.top - vr.height / 3;
        v.scrollLeft += er.left - vr.left - vr.width / 4;
      }
    }
  }

  function currentPage() {
    var v = viewer();
    var pages = document.querySelectorAll(".wb-page");
    if (!v || !pages.length) return 1;
    var top = v.getBoundingClientRect().top;
    var current = 1;
    pages.forEach(function (p) {
      if (p.getBoundingClientRect().top - top <= 40) current = Number(p.dataset.page);
    });
    return current;
  }

  function showPage(n) {
    var page = document.getElementById("wb-page-" + n);
    var v = viewer();
    if (!page || !v) return;
    v.scrollTop += page.getBoundingClientRect().top - v.getBoundingClientRect().top - 4;
    updateLabel(n);
  }

  function updateLabel(n) {
    var label = document.getElementById("wb-page-current");
    if (label) label.textContent = String(n || currentPage());
  }

  function setZoom(z) {
    var pages = document.getElementById("wb-pages");
    if (!pages) return;
    var page = currentPage();
    zoom = z;
    pages.style.width = Math.round(zoom * 100) + "%";
    var level = document.getElementById("wb-zoom-level");
    if (level) level.textContent = Math.round(zoom * 100) + "%";
    showPage(page);
  }

  function stepZoom(dir) {
    if (dir === 0) return setZoom(1);
    var i = ZOOMS.indexOf(zoom);
    if (i < 0) i = 2;
    i = Math.max(0, Math.min(ZOOMS.length - 1, i + dir));
    setZoom(ZOOMS[i]);
  }

  function prefill(button) {
    var select = document.getElementById("wb-correct-field");
    var input = document.getElementById("wb-correct-value");
    if (!select || !input) return;
    select.value = button.dataset.field;
    input.value = button.dataset.value || "";
    input.focus();
    input.select();
  }

  document.addEventListener("mouseover", function (event) {
    var row = event.target.closest && event.target.closest(".wb-field");
    if (row) highlight(row, false);
  });
  document.addEventListener("mouseout", function (event) {
    var row = event.target.closest && event.target.closest(".wb-field");
    if (row && !row.contains(event.relatedTarget) && document.activeElement !== row) clear();
  });
  document.addEventListener("focusin", function (event) {
    var row = event.target.closest && event.target.closest(".wb-field");
    if (row) highlight(row, true);
  });
  document.addEventListener("focusout", function (event) {
    var row = event.target.closest && event.target.closest(".wb-field");
    if (row && !row.contains(event.relatedTarget)) clear();
  });
  document.addEventListener("click", function (event) {
    var el = event.target.closest && event.target.closest("[data-wb-page], [data-wb-zoom], .wb-edit");
    if (!el) return;
    if (el.classList.contains("wb-edit")) return prefill(el);
    if (el.dataset.wbPage) {
      var total = document.querySelectorAll(".wb-page").length;
      showPage(Math.max(1, Math.min(total, currentPage() + Number(el.dataset.wbPage))));
    } else {
      stepZoom(Number(el.dataset.wbZoom));
    }
  });
  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "wb-correct-field") {
      var button = document.querySelector('.wb-edit[data-field="' + event.target.value + '"]');
      var input = document.getElementById("wb-correct-value");
      if (button && input) input.value = button.dataset.value || "";
    }
  });

  function init() {
    placeBoxes();
    var v = viewer();
    if (v) v.addEventListener("scroll", function () { updateLabel(); }, { passive: true });
  }
  document.body.addEventListener("htmx:afterSwap", placeBoxes);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
