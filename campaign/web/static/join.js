/* The sign-up form's one script: pre-select the browser's own timezone.
   Without it the select still works; the script never overrides a choice already made. */
(function () {
  "use strict";
  var select = document.getElementById("timezone");
  if (!select || select.value) {
    return;
  }
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  if (!zone) {
    return;
  }
  for (var i = 0; i < select.options.length; i += 1) {
    var option = select.options[i];
    var aliases = (option.getAttribute("data-aliases") || "").split(" ");
    if (option.value === zone || aliases.indexOf(zone) !== -1) {
      select.value = option.value;
      return;
    }
  }
})();
