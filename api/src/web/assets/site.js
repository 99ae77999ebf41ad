// maitred's only script. Everything works without it but the live update of a reservation's
// status; it adds that, "near me" on the search form, and a guard against double submits.
"use strict";

// A region marked data-live="URL" is replaced by a fresh copy from URL until the copy says
// data-final="true". Each copy is the same element, rendered by the server.
function followLiveRegion(region) {
  var url = region.getAttribute("data-live");
  var delay = 1000;
  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "text/html" } })
      .then(function (answer) {
        if (!answer.ok) { throw new Error("status " + answer.status); }
        return answer.text();
      })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html.trim();
        var fresh = holder.firstElementChild;
        if (!fresh) { throw new Error("empty answer"); }
        // Replaced only when something changed: a host's focus and half-typed input stay put.
        if (!fresh.isEqualNode(region)) {
          region.replaceWith(fresh);
          region = fresh;
          region.querySelectorAll("form[data-once]").forEach(submitOnce);
        }
        delay = 1000;
        if (fresh.getAttribute("data-final") !== "true") { setTimeout(poll, delay); }
      })
      .catch(function () {
        // The server is busy or the network is down: try again, less often.
        delay = Math.min(delay * 2, 15000);
        setTimeout(poll, delay);
      });
  }
  if (region.getAttribute("data-final") !== "true") { setTimeout(poll, delay); }
}

// "Near me": ask the browser where we are, then search around that point.
function offerNearMe(button) {
  if (!("geolocation" in navigator)) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    var form = button.form;
    var note = document.getElementById("near-me-note");
    if (note) { note.textContent = "Finding where you are…"; }
    navigator.geolocation.getCurrentPosition(function (position) {
      form.elements.near.value =
        position.coords.latitude.toFixed(5) + "," + position.coords.longitude.toFixed(5);
      form.elements.city.value = "";
      form.submit();
    }, function () {
      if (note) { note.textContent = "Your browser did not share your location; choose a city instead."; }
    }, { timeout: 10000, maximumAge: 600000 });
  });
}

// A form marked data-once submits once: a second click would only repeat the same request
// (the server books it once anyway), so the button says the form is on its way.
function submitOnce(form) {
  form.addEventListener("submit", function () {
    var buttons = form.querySelectorAll("button[type=submit]");
    setTimeout(function () {
      buttons.forEach(function (button) {
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
        if (button.getAttribute("data-busy-label")) {
          button.textContent = button.getAttribute("data-busy-label");
        }
      });
    }, 0);
  });
}

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-live]").forEach(followLiveRegion);
  document.querySelectorAll("#near-me").forEach(offerNearMe);
  document.querySelectorAll("form[data-once]").forEach(submitOnce);
});
