// Applies the saved theme before the first paint, so a dark page never flashes white.
// A file, not an inline script: the Content-Security-Policy allows scripts from the server only.
try {
  var t = JSON.parse(localStorage.getItem('parley.settings') || '{}').theme || 'system';
  if (t === 'system') t = matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  document.documentElement.dataset.theme = t;
  document.documentElement.style.colorScheme = t;
} catch (e) {}
