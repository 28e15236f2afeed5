// SPDX-License-Identifier: Apache-2.0
// The cairn web console's only script: small comforts, nothing the pages
// need to work. Served from /ui/static/ under a CSP without inline script.
(function () {
  'use strict';
  // A form sent once: its buttons wait for the answer.
  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    if (form.method && form.method.toLowerCase() === 'post') {
      window.setTimeout(function () {
        var buttons = form.querySelectorAll('button[type=submit]');
        for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
      }, 0);
    }
  });
  // A chosen file replaces the text box beside it.
  document.addEventListener('change', function (ev) {
    var input = ev.target;
    if (input.type !== 'file' || !input.form) return;
    var text = input.form.querySelector('textarea');
    if (text) text.disabled = input.files && input.files.length > 0;
  });
})();
