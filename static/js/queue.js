/* Review queue: live SLA countdowns, keyboard shortcuts, image zoom, claim lease
   heartbeat. No framework; htmx may replace the queue table, so everything is
   re-bound after each swap. */
(function () {
  "use strict";

  function fmt(seconds) {
    var sign = seconds < 0 ? "-" : "";
    var s = Math.abs(Math.round(seconds));
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var sec = s % 60;
    return sign + h + ":" + String(m).padStart(2, "0") + ":" + String(sec).padStart(2, "0");
  }

  var timer = null;

  function startCountdowns() {
    var table = document.getElementById("queue-rows");
    var cells = document.querySelectorAll(".sla-countdown[data-remaining]");
    if (!cells.length) return;
    var serverNow = table ? Number(table.dataset.now) : Date.now();
    var periodStart = table ? Number(table.dataset.periodStart) : 0;
    var periodEnd = table ? Number(table.dataset.periodEnd) : 0;
    var loadedAt = Date.now();
    function tick() {
      var now = serverNow + (Date.now() - loadedAt);
      // Business time passes only inside the current working period.
      var from = Math.max(serverNow, periodStart);
      var to = Math.min(now, periodEnd);
      var elapsed = periodEnd && to > from ? (to - from) / 1000 : 0;
      cells.forEach(function (cell) {
        if (cell.dataset.remaining === "") return;
        var remaining = Number(cell.dataset.remaining) - elapsed;
        var target = Number(cell.dataset.target) || 1;
        var warn = Number(cell.dataset.warn) || 75;
        cell.textContent = fmt(remaining);
        cell.classList.toggle("text-danger", remaining <= 0);
        cell.classList.toggle("fw-bold", remaining <= 0);
        cell.classList.toggle(
          "text-warning",
          remaining > 0 && (target - remaining) >= (target * warn) / 100
        );
      });
    }
    tick();
    if (timer) clearInterval(timer);
    timer = setInterval(tick, 1000);
  }

  function typing(target) {
    var tag = (target.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function bindShortcuts() {
    document.addEventListener("keydown", function (event) {
      var form = document.getElementById("decision-form");
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && form) {
        event.preventDefault();
        form.requestSubmit();
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      var key = event.key.toLowerCase();
      var target = document.querySelector('[data-shortcut="' + key + '"]');
      if (!target) return;
      event.preventDefault();
      if (target.tagName.toLowerCase() === "label") {
        var input = document.getElementById(target.getAttribute("for"));
        if (input) {
          input.checked = true;
          input.dispatchEvent(new Event("change", { bubbles: true }));
        }
        var next = key === "a" ? null : document.getElementById(key === "r" ? "id_reason_code" : "id_comment");
        if (next) next.focus();
      } else {
        target.click();
      }
    });
  }

  function bindDecisionForm() {
    var form = document.getElementById("decision-form");
    if (!form) return;
    var reasonRow = document.getElementById("reason-row");
    function update() {
      var checked = form.querySelector('input[name="decision"]:checked');
      reasonRow.hidden = !(checked && checked.value === "reject");
    }
    form.addEventListener("change", update);
    update();
  }

  function bindZoom() {
    var img = document.getElementById("document-image");
    if (!img) return;
    var scale = 1;
    function apply() {
      img.style.transform = "scale(" + scale + ")";
    }
    document.querySelectorAll("[data-zoom]").forEach(function (button) {
      button.addEventListener("click", function () {
        var step = Number(button.dataset.zoom);
        scale = step === 0 ? 1 : Math.min(5, Math.max(0.5, scale + step * 0.25));
        apply();
      });
    });
    img.addEventListener("dblclick", function () {
      scale = scale === 1 ? 2 : 1;
      apply();
    });
  }

  function startHeartbeat() {
    var header = document.getElementById("task-header");
    if (!header || header.dataset.mine !== "1") return;
    var minutes = Number(header.dataset.leaseMinutes) || 30;
    var every = Math.max(30, (minutes * 60) / 3) * 1000;
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    setInterval(function () {
      if (document.hidden) return;  // an abandoned tab lets the lease expire
      fetch(header.dataset.heartbeat, {
        method: "POST",
        headers: { "X-CSRFToken": token ? token.value : "" },
        credentials: "same-origin",
      });
    }, every);
  }

  document.addEventListener("DOMContentLoaded", function () {
    startCountdowns();
    bindShortcuts();
    bindDecisionForm();
    bindZoom();
    startHeartbeat();
  });
  document.addEventListener("htmx:afterSwap", startCountdowns);
})();
