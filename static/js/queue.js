/* Review queue: live SLA countdowns, keyboard shortcuts, claim lease heartbeat,
   self-refreshing regions. No framework; htmx replaces the queue table and the
   board's lists, so the countdowns restart after each swap. */
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
    startHeartbeat();
  });
  document.addEventListener("htmx:afterSwap", startCountdowns);

  // Self-refreshing regions ([data-live], htmx "every Ns"): skip a refresh while
  // the reader is busy there (focus inside it or in a [data-live-pause] form, tasks
  // ticked for a bulk action) or the tab is hidden; the next tick tries again.
  function busy(region) {
    if (document.hidden) return true;
    var active = document.activeElement;
    if (active && active !== document.body) {
      if (region.contains(active)) return true;
      var pausers = document.querySelectorAll("[data-live-pause]");
      for (var i = 0; i < pausers.length; i++) {
        if (pausers[i].contains(active)) return true;
      }
    }
    return !!document.querySelector('input[name="tasks"]:checked');
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var region = event.detail.elt;
    if (region && region.hasAttribute("data-live") && busy(region)) {
      event.preventDefault();
    }
  });

  // A refresh answered by another page (the session ended: the sign-in page) is
  // not swapped in; the whole page reloads and shows it properly.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var region = event.detail.elt;
    if (!region || !region.hasAttribute("data-live")) return;
    var asked = new URL(region.getAttribute("hx-get"), window.location.href).pathname;
    var answered = event.detail.xhr && event.detail.xhr.responseURL;
    if (answered && new URL(answered).pathname !== asked) {
      event.detail.shouldSwap = false;
      window.location.reload();
    }
  });
})();
