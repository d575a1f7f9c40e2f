// Batch plaques: poll the job's progress and offer the ZIP when it is ready.
(function () {
  var box = document.getElementById("plaque-job");
  if (!box) return;
  var url = box.getAttribute("data-progress-url");
  var labels = { queued: "排队中", running: "生成中", done: "已完成", failed: "失败" };
  function text(id, value) { document.getElementById(id).textContent = value; }
  function show(job) {
    document.getElementById("plaque-progress").value = job.percent;
    text("plaque-percent", job.percent);
    text("plaque-count", job.done + " / " + job.total);
    text("plaque-state", labels[job.state] || job.state);
    var message = document.getElementById("plaque-message");
    message.textContent = job.message || "";
    message.className = job.state === "failed" ? "flash flash-error" : "muted";
    if (job.state === "done") {
      var link = document.getElementById("plaque-download");
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
        if (job.state === "queued" || job.state === "running") window.setTimeout(poll, 1000);
      })
      .catch(function () {
        text("plaque-message", "暂时无法获取进度，请刷新本页。");
      });
  }
  var state = box.getAttribute("data-state");
  if (state === "queued" || state === "running") poll();
})();
