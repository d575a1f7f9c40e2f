// The console's WeChat simulator: send what a resident would, show the official account's reply.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    var root = document.getElementById("wxsim");
    if (!root) return;
    var chat = document.getElementById("wxsim-chat");
    var textForm = document.getElementById("wxsim-text");
    var content = document.getElementById("wxsim-content");
    var openidInput = document.getElementById("wxsim-openid");
    var aes = document.getElementById("wxsim-aes");
    var station = document.getElementById("wxsim-station");
    var lat = document.getElementById("wxsim-lat");
    var lng = document.getElementById("wxsim-lng");
    var busy = false;

    function bubble(kind, text) {
      var item = document.createElement("li");
      item.className = kind;
      item.textContent = text;
      chat.appendChild(item);
      chat.scrollTop = chat.scrollHeight;
      return item;
    }

    function showLog(rows) {
      var body = document.getElementById("wxsim-log");
      body.textContent = "";
      if (!rows.length) {
        var empty = body.insertRow();
        var cell = empty.insertCell();
        cell.colSpan = 4;
        cell.className = "empty";
        cell.textContent = "还没有消息。";
        return;
      }
      rows.forEach(function (row) {
        var tr = body.insertRow();
        [row.at.slice(11, 19), row.type_label, row.said, row.action_label + " " + row.ref].forEach(function (value) {
          tr.insertCell().textContent = value;
        });
      });
    }

    function send(payload, label, kind) {
      if (busy) return;
      busy = true;
      payload.openid = openidInput.value.trim();
      payload.aes = aes ? aes.checked : false;
      bubble(kind || "event", label);
      fetch(root.getAttribute("data-send-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "Accept": "application/json",
          "X-CSRFToken": root.getAttribute("data-csrf")
        },
        body: JSON.stringify(payload)
      })
        .then(function (response) {
          return response.json().then(function (data) { return { ok: response.ok, data: data }; });
        })
        .then(function (result) {
          var data = result.data;
          if (!result.ok) {
            bubble("error", (data.error && data.error.message) || "发送失败。");
            return;
          }
          if (data.status !== 200) bubble("error", "公众号接口返回 " + data.status + "：" + data.raw_reply);
          else if (data.reply) bubble("them", data.reply);
          else bubble("event", "（公众号回复 success，无消息）");
          document.getElementById("wxsim-sent").textContent = data.sent_xml;
          document.getElementById("wxsim-reply").textContent = data.raw_reply;
          showLog(data.log || []);
        })
        .catch(function () { bubble("error", "网络错误，请重试。"); })
        .then(function () { busy = false; });
    }

    textForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = content.value.trim();
      if (!text) return;
      content.value = "";
      send({ kind: "text", content: text }, text, "me");
    });

    root.querySelectorAll(".wxsim-menu-btn").forEach(function (button) {
      button.addEventListener("click", function () {
        send({ kind: "click", key: button.getAttribute("data-key") }, "点击菜单：" + button.textContent);
      });
    });

    root.querySelectorAll("button[data-kind]").forEach(function (button) {
      button.addEventListener("click", function () {
        var kind = button.getAttribute("data-kind");
        if (kind === "scan") {
          var option = station.options[station.selectedIndex];
          send({ kind: "scan", station_code: station.value }, "扫描二维码：" + option.textContent);
        } else if (kind === "location") {
          send({ kind: "location", lat: lat.value, lng: lng.value }, "[位置] " + lat.value + ", " + lng.value, "me");
        } else {
          send({ kind: kind }, kind === "subscribe" ? "关注公众号" : "取消关注公众号");
        }
      });
    });

    if (station) {
      station.addEventListener("change", function () {
        var option = station.options[station.selectedIndex];
        if (option.getAttribute("data-lat")) {
          lat.value = option.getAttribute("data-lat");
          lng.value = option.getAttribute("data-lng");
        }
      });
    }

    openidInput.addEventListener("change", function () {
      chat.textContent = "";
      bubble("wxsim-hint", "已切换为 " + openidInput.value.trim());
      var url = root.getAttribute("data-log-url") + "?openid=" + encodeURIComponent(openidInput.value.trim());
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (data) { showLog(data.log || []); })
        .catch(function () {});
    });
  });
})();
