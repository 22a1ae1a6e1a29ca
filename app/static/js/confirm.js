// Forms with data-confirm="question" ask before they submit (an inline onsubmit would need
// the CSP to allow inline script).
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
