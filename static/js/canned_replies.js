/* Task page: a canned reply (admin-managed text) starts the question to the
   submitter: it fills the comment and selects "request information". */
(function () {
  "use strict";
  var select = document.getElementById("canned-reply");
  var comment = document.getElementById("id_comment");
  if (!select || !comment) return;
  select.addEventListener("change", function () {
    var option = select.options[select.selectedIndex];
    var body = option ? option.getAttribute("data-body") : "";
    if (!body) return;
    comment.value = body;
    var ask = document.getElementById("decision-request_info");
    if (ask) {
      ask.checked = true;
      ask.dispatchEvent(new Event("change", { bubbles: true }));
    }
    comment.focus();
  });
})();
