// 意见办理: select-all for bulk 交办, and the 常用答复 picker filling the reply text. Optional sugar:
// without JavaScript every row has its own checkbox and a chosen template is used as the text.
document.addEventListener("DOMContentLoaded", function () {
  var all = document.querySelector("[data-pick-all]");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input[name=no][form=bulk-form]").forEach(function (box) {
        box.checked = all.checked;
      });
    });
  }

  document.querySelectorAll("select[data-fill]").forEach(function (select) {
    var target = document.querySelector(select.getAttribute("data-fill"));
    if (!target) return;
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      var text = option ? option.getAttribute("data-text") : null;
      if (!text) return;
      if (target.value.trim() && !window.confirm("用所选常用答复替换已填写的内容吗？")) return;
      target.value = text;
    });
  });
});
