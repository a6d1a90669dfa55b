// Staff notices: live arrival on the inbox, the roll-up refreshing itself while the notice is fresh, and the
// unit filter of the compose form. No inline script (the CSP forbids it); text comes from the page.
(function () {
  "use strict";

  var timeFormat = new Intl.DateTimeFormat("sv-SE", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"
  });

  function inbox(list) {
    var template = document.getElementById("notice-row-template");
    var counter = document.getElementById("unread-count");
    var status = document.getElementById("live-status");
    if (!template || !window.EventSource) { return; }
    var source = new EventSource(list.getAttribute("data-stream"));
    list.setAttribute("data-live", "connecting");
    source.addEventListener("ready", function () { list.setAttribute("data-live", "open"); });
    source.addEventListener("error", function () { list.setAttribute("data-live", "reconnecting"); });
    source.addEventListener("notice", function (event) {
      var notice = JSON.parse(event.data);
      if (document.getElementById("notice-" + notice.id)) { return; }
      var item = template.content.firstElementChild.cloneNode(true);
      item.id = "notice-" + notice.id;
      item.setAttribute("data-id", String(notice.id));
      item.classList.add("is-new");
      var link = item.querySelector(".notice-link");
      link.textContent = notice.title;
      link.setAttribute("href", notice.url);
      item.querySelectorAll("[data-priority]").forEach(function (badge) {
        if (badge.getAttribute("data-priority") !== notice.priority) { badge.remove(); }
      });
      if (!notice.requires_ack) { item.querySelector("[data-ack]").remove(); }
      item.querySelector(".notice-from").textContent = notice.publisher_org_name;
      var time = item.querySelector(".notice-time");
      time.setAttribute("datetime", notice.published_at);
      time.textContent = timeFormat.format(new Date(notice.published_at));
      // Unread urgent and emergency notices come first; a new normal one goes after them.
      var before = list.firstElementChild;
      if (notice.priority === "normal") {
        while (before && before.classList.contains("is-unread") && before.querySelector(".badge-warn, .badge-danger")) {
          before = before.nextElementSibling;
        }
      }
      list.insertBefore(item, before);
      var empty = document.getElementById("inbox-empty");
      if (empty) { empty.remove(); }
      if (counter) { counter.textContent = String(parseInt(counter.textContent, 10) + 1); }
      if (status) {
        status.textContent = status.getAttribute("data-new") + notice.title;
        status.hidden = false;
      }
    });
  }

  function refresh(panel) {
    var seconds = parseInt(panel.getAttribute("data-refresh"), 10) || 5;
    window.setInterval(function () {
      if (document.hidden) { return; }
      fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("rollup");
          if (fresh) { panel.replaceChildren.apply(panel, Array.from(fresh.childNodes).map(function (n) { return document.importNode(n, true); })); }
        })
        .catch(function () { /* the next tick tries again */ });
    }, seconds * 1000);
  }

  function unitFilter(input) {
    var options = document.querySelectorAll("#units .unit-option");
    input.addEventListener("input", function () {
      var wanted = input.value.trim();
      options.forEach(function (option) {
        option.hidden = wanted !== "" && option.textContent.indexOf(wanted) === -1 && !option.querySelector("input:checked");
      });
    });
  }

  var list = document.querySelector("[data-stream]");
  if (list) { inbox(list); }
  var panel = document.querySelector("[data-refresh]");
  if (panel) { refresh(panel); }
  var filter = document.getElementById("unit-filter");
  if (filter) { unitFilter(filter); }
})();
