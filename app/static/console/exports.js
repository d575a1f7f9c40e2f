// Export jobs: poll the job's progress (any worker answers from the database) and offer the file.
(function () {
  var box = document.getElementById("export-job");
  if (!box) return;
  var url = box.getAttribute("data-progress-url");
  function text(id, value) { document.getElementById(id).textContent = value; }
  function show(job) {
    document.getElementById("export-progress").value = job.percent;
    text("export-percent", job.percent);
    text("export-count", job.done + " / " + job.total);
    text("export-state", job.state_label || job.state);
    var message = document.getElementById("export-message");
    message.textContent = job.message || "";
    message.className = job.state === "failed" ? "flash flash-error" : "muted";
    if (job.state === "done") {
      var link = document.getElementById("export-download");
      link.href = job.download_url;
      link.hidden = false;
    }
    box.setAttribute("data-state", job.state);
  }
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("progress " + response.status);
        return response.json();
      })
      .then(function (job) {
        show(job);
        if (job.state === "queued" || job.state === "running") window.setTimeout(poll, 700);
      })
      .catch(function () { text("export-message", "暂时无法获取进度，请刷新本页。"); });
  }
  var state = box.getAttribute("data-state");
  if (state === "queued" || state === "running") poll();
})();
