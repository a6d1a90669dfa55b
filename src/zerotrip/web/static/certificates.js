// The certificates pages' few lines of script; every page works without them.
(function () {
  "use strict";

  // /verify#<token>: what a certificate's QR code holds. The fragment never reaches the server, so it is
  // moved into the paste form, taken off the address bar and submitted.
  var form = document.getElementById("verify-form");
  if (form && window.location.hash.length > 1) {
    var text = document.getElementById("token");
    text.value = window.location.hash.slice(1);
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
    form.submit();
  }

  // 亮证: count down the presentation's life; when it is over, hide the code and ask for a fresh one.
  var shown = document.querySelector("[data-seconds]");
  if (shown) {
    // Counted from when the page arrived, so a phone whose clock is off still counts right.
    var expires = Date.now() + 1000 * Number(shown.getAttribute("data-seconds"));
    var counter = document.getElementById("countdown");
    var expired = document.getElementById("code-expired");
    var tick = function () {
      var left = Math.max(0, Math.round((expires - Date.now()) / 1000));
      if (counter) {
        counter.textContent = String(left);
      }
      if (left <= 0) {
        shown.classList.add("is-expired");
        if (expired) {
          expired.hidden = false;
        }
        return;
      }
      window.setTimeout(tick, 1000);
    };
    tick();
  }
})();
