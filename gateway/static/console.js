// The convenant's answer, refreshed while the form changes. Every page works without this file:
// the "Controleer" button asks the same question.
(function () {
  "use strict";
  var form = document.getElementById("signaal");
  if (!form || !window.fetch) { return; }
  var timer = null;
  function ask() {
    var data = new URLSearchParams(new FormData(form));
    data.set("action", "check");
    // form.action would be the buttons named "action", not the attribute.
    fetch(form.getAttribute("action"), {
      method: "POST",
      headers: { "X-Partial": "decision", "Content-Type": "application/x-www-form-urlencoded" },
      body: data.toString(),
      credentials: "same-origin"
    }).then(function (r) { return r.text(); }).then(function (html) {
      var box = document.getElementById("beslissing");
      if (!box) { return; }
      var doc = new DOMParser().parseFromString(html, "text/html");
      var fresh = doc.getElementById("beslissing");
      if (fresh) { box.replaceWith(fresh); }
    }).catch(function () { /* the button still works */ });
  }
  function later(e) {
    if (e.target && e.target.name === "text") { return; }
    clearTimeout(timer);
    timer = setTimeout(ask, 500);
  }
  form.addEventListener("change", later);
})();
