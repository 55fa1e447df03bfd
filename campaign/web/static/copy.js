// The act page's "Copy address" buttons. Their paragraphs are hidden in the HTML, so a
// browser without JavaScript (or without the Clipboard API) shows no button that cannot
// work; here they are shown and copy the address block they name, as its lines read.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  if (!navigator.clipboard) {
    return;
  }
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const holder = button.parentElement;
    const status = holder.querySelector("[role=status]");
    holder.hidden = false;
    button.addEventListener("click", async () => {
      const address = document.getElementById(button.dataset.copy);
      await navigator.clipboard.writeText(address.innerText.trim());
      status.textContent = button.dataset.copied;
    });
  }
});
