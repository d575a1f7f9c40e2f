// Background jobs (exports, plaque ZIPs): poll the job's progress and offer its file when ready.
// Any worker answers the poll from the database. The page marks the job's box with
// data-job-prefix="export" (or "plaque"), data-progress-url and data-state; its parts are the
// elements <prefix>-progress, -percent, -count, -state, -message and -download.
(function () {
  var boxes = document.querySelectorAll("[data-job-prefix]");
  Array.prototype.forEach.call(boxes, function (box) {
    var prefix = box.getAttribute("data-job-prefix");
    var url = box.getAttribute("data-progress-url");
    var delay = parseInt(box.getAttribute("data-poll-ms") || "800", 10);
    function part(name) { return document.getElementById(prefix + "-" + name); }
    function text(name, value) { part(name).textContent = value; }
    function show(job) {
      part("progress").value = job.percent;
      text("percent", job.percent);
      text("count", job.done + " / " + job.total);
      text("state", job.state_label || job.state);
      var message = part("message");
      message.textContent = job.message || "";
      message.className = job.state === "failed" ? "flash flash-error" : "muted";
      if (job.state === "done") {
        var link = part("download");
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
          if (job.state === "queued" || job.state === "running") window.setTimeout(poll, delay);
        })
        .catch(function () { text("message", "暂时无法获取进度，请刷新本页。"); });
    }
    var state = box.getAttribute("data-state");
    if (state === "queued" || state === "running") poll();
  });
})();
