// The booking pages' few lines of script; every page works without them.
(function () {
  "use strict";

  // Search near me: fill "near a place" with the phone's position and search.
  var locate = document.getElementById("use-location");
  var near = document.getElementById("near");
  if (locate && near && navigator.geolocation) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      locate.disabled = true;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          near.value = position.coords.latitude.toFixed(4) + "," + position.coords.longitude.toFixed(4);
          document.getElementById("county").value = "";
          near.form.submit();
        },
        function () {
          locate.disabled = false;
          var failed = document.getElementById("location-failed");
          if (failed) {
            failed.hidden = false;
          }
        },
        { enableHighAccuracy: false, timeout: 10000, maximumAge: 60000 }
      );
    });
  }
})();
