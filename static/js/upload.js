// Upload each chosen file on its own request, showing its progress and its result.
(function () {
  const input = document.getElementById("files");
  const zone = document.getElementById("dropzone");
  const results = document.getElementById("results");
  const template = document.getElementById("row-template");
  const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;

  function send(file) {
    const row = template.content.firstElementChild.cloneNode(true);
    row.querySelector(".name").textContent = file.name;
    results.prepend(row);
    const bar = row.querySelector(".progress-bar");
    const outcome = row.querySelector(".outcome");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", results.dataset.url);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) bar.style.width = (100 * e.loaded / e.total) + "%";
    };
    xhr.onload = () => {
      bar.style.width = "100%";
      bar.classList.add(xhr.status < 300 ? "bg-success" : "bg-danger");
      outcome.classList.remove("text-muted");
      outcome.innerHTML = xhr.responseText;
      // Each received file's screening result then updates itself (htmx polling of
      // its status line, which stops once the invoice is decided).
      if (window.htmx) window.htmx.process(outcome);
    };
    xhr.onerror = () => {
      bar.classList.add("bg-danger");
      outcome.textContent = zone.dataset.networkError || "Network error";
    };
    const form = new FormData();
    form.append("file", file);
    xhr.send(form);
  }

  function sendAll(files) { Array.from(files).forEach(send); }
  input.addEventListener("change", () => { sendAll(input.files); input.value = ""; });
  ["dragenter", "dragover"].forEach((t) => zone.addEventListener(t, (e) => {
    e.preventDefault(); zone.classList.add("border-primary");
  }));
  ["dragleave", "drop"].forEach((t) => zone.addEventListener(t, (e) => {
    e.preventDefault(); zone.classList.remove("border-primary");
  }));
  zone.addEventListener("drop", (e) => sendAll(e.dataTransfer.files));
})();
