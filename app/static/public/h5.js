/* Small enhancements of the resident forms; every form works without this file. */
(function () {
  "use strict";

  // Live character counter under a textarea: <span data-counter-for="id" data-max="2000">.
  document.querySelectorAll("[data-counter-for]").forEach(function (counter) {
    var field = document.getElementById(counter.getAttribute("data-counter-for"));
    var max = parseInt(counter.getAttribute("data-max"), 10);
    if (!field) return;
    function update() {
      var length = field.value.trim().length;
      counter.textContent = length;
      counter.parentNode.classList.toggle("is-over", length > max);
    }
    field.addEventListener("input", update);
    update();
  });

  // Photo previews with a size hint; too many or too large files block the submit with a message.
  document.querySelectorAll("input[type=file][data-max-files]").forEach(function (input) {
    var maxFiles = parseInt(input.getAttribute("data-max-files"), 10);
    var maxBytes = parseInt(input.getAttribute("data-max-mb"), 10) * 1024 * 1024;
    var box = document.querySelector('[data-previews-for="' + input.id + '"]');
    var hint = input.parentNode.querySelector("[data-photo-hint]");
    var original = hint ? hint.textContent : "";
    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files || []);
      var problem = "";
      if (box) box.textContent = "";
      files.forEach(function (file) {
        var size = file.size < 1024 * 1024 ? Math.max(1, Math.round(file.size / 1024)) + " KB" : (file.size / 1024 / 1024).toFixed(1) + " MB";
        if (file.size > maxBytes) problem = "“" + file.name + "”有 " + size + "，超过了 " + maxBytes / 1024 / 1024 + " MB，请换一张或压缩后再选。";
        if (!box) return;
        var figure = document.createElement("figure");
        figure.className = "preview" + (file.size > maxBytes ? " is-bad" : "");
        if (/^image\//.test(file.type) && window.URL && URL.createObjectURL) {
          var img = document.createElement("img");
          img.alt = "";
          img.src = URL.createObjectURL(file);
          img.onload = function () { URL.revokeObjectURL(img.src); };
          figure.appendChild(img);
        }
        var caption = document.createElement("figcaption");
        caption.textContent = size;
        figure.appendChild(caption);
        box.appendChild(figure);
      });
      if (files.length > maxFiles) problem = "最多选 " + maxFiles + " 张照片，您选了 " + files.length + " 张，请重新选择。";
      input.setCustomValidity(problem);
      if (hint) {
        hint.textContent = problem || (files.length ? "已选 " + files.length + " 张照片。" : original);
        hint.classList.toggle("is-over", !!problem);
      }
    });
  });

  // "复制" next to a tracking number: the Clipboard API where allowed, a hidden selection otherwise.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    var label = button.textContent;
    function done(ok) {
      button.textContent = ok ? "已复制" : "请长按编号复制";
      setTimeout(function () { button.textContent = label; }, 2000);
    }
    function fallback(text) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "copy-buffer";  // hidden by site.css; no inline style under the CSP
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      return ok;
    }
    button.addEventListener("click", function () {
      var text = button.getAttribute("data-copy");
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(fallback(text)); });
      } else {
        done(fallback(text));
      }
    });
  });

  // Ask before an irreversible action; show that a slow upload is under way and stop double submits.
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var question = form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) {
        event.preventDefault();
        return;
      }
      var button = form.querySelector("[data-busy]");
      if (button) {
        if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
        form.setAttribute("data-sent", "1");
        button.textContent = button.getAttribute("data-busy");
        button.setAttribute("aria-disabled", "true");
      }
    });
  });
})();
