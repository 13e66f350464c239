// "Share the link" on phones (the system share sheet), copy to the clipboard elsewhere.
for (const button of document.querySelectorAll("button.share")) {
  if (!navigator.share && !navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    const url = button.dataset.link;
    try {
      if (navigator.share) await navigator.share({ url });
      else {
        await navigator.clipboard.writeText(url);
        button.textContent = button.dataset.copied;
      }
    } catch (err) {
      // The person closed the share sheet: nothing to do.
    }
  });
}
