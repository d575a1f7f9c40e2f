// Small progressive enhancements for the console; every page works without them.
document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", function () {
  // Phone menu: the sidebar opens under the top bar.
  var toggle = document.querySelector(".nav-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var open = document.body.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // Ask before destructive posts (delete, unplace, reset).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });

  // New account form: show only the scope field the chosen role needs.
  var role = document.querySelector("select[name=role]");
  var targets = document.querySelectorAll("[data-for-roles]");
  function showTargets() {
    targets.forEach(function (el) {
      var roles = el.getAttribute("data-for-roles").split(" ");
      el.hidden = role.value !== "" && roles.indexOf(role.value) === -1;
    });
  }
  if (role && targets.length) {
    role.addEventListener("change", showTargets);
    showTargets();
  }
});
