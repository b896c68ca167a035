// The report's filters: a text box and a user choice over each table, and
// "failing only" over the runs. No network, no libraries.
"use strict";
(function () {
  function words(text) {
    return text.toLowerCase().split(/\s+/).filter(Boolean);
  }
  function apply(block) {
    var query = words(block.querySelector("input[type=search]").value);
    var pick = block.querySelector("select");
    var user = pick ? pick.value : "";
    var rows = block.querySelectorAll("tbody tr");
    var shown = 0;
    rows.forEach(function (row) {
      var text = row.textContent.toLowerCase();
      var ok = query.every(function (w) { return text.indexOf(w) >= 0; });
      if (ok && user) { ok = row.getAttribute("data-user") === user; }
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    block.querySelector(".count").textContent = shown + " of " + rows.length + " rows";
  }
  document.querySelectorAll(".filterable").forEach(function (block) {
    block.querySelectorAll("input[type=search], select").forEach(function (field) {
      // "input" while typing; "change" from a choice, and from a search box cleared.
      field.addEventListener("input", function () { apply(block); });
      field.addEventListener("change", function () { apply(block); });
    });
  });
  var failing = document.getElementById("failing-only");
  if (failing) {
    failing.addEventListener("change", function () {
      document.querySelectorAll(".run.pass").forEach(function (run) {
        run.hidden = failing.checked;
      });
    });
  }
})();
