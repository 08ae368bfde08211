// newsflow story pages: hovering or focusing a marked passage lights up its counterpart
// (the other side of the same aligned pair).  The pages work without this script.
(function () {
  "use strict";
  function light(ev, on) {
    var el = ev.target.closest && ev.target.closest("mark[data-pair]");
    if (!el) return;
    var section = el.closest("section") || document;
    var marks = section.querySelectorAll('mark[data-pair="' + el.getAttribute("data-pair") + '"]');
    for (var i = 0; i < marks.length; i++) marks[i].classList.toggle("lit", on);
  }
  document.addEventListener("mouseover", function (ev) { light(ev, true); });
  document.addEventListener("mouseout", function (ev) { light(ev, false); });
  document.addEventListener("focusin", function (ev) { light(ev, true); });
  document.addEventListener("focusout", function (ev) { light(ev, false); });
})();
