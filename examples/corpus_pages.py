"""HTML page templates, one per outlet, deliberately different.

Each outlet wraps the same kind of content (``<article>`` with ``<p>`` paragraphs) in
its own chrome: navigation, breadcrumbs, date line, byline, share links, comment box,
related-article teasers, newsletter box, footer.  Class names and nesting differ so
that boilerplate removal is not tuned to one template.
"""

from __future__ import annotations

from html import escape

from corpus_model import (
    AR_MONTHS_EG,
    AR_MONTHS_LEV,
    AR_WEEKDAYS,
    Item,
    ar_clock,
    ar_date,
    en_date,
    snippet,
)


def _e(text: str) -> str:
    return escape(text, quote=True)


def _head(item: Item, extra: str = "") -> str:
    o = item.outlet
    meta = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(item.title)} | {_e(o.name)}</title>",
        f'<link rel="canonical" href="{item.url}">',
        f'<meta property="og:site_name" content="{_e(o.name)}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:url" content="{item.url}">',
        f'<meta property="og:title" content="{_e(item.title)}">',
        f'<meta name="description" content="{_e(item.summary)}">',
        f'<meta name="author" content="{_e(item.author)}">',
    ]
    if item.published:
        meta.append(f'<meta property="article:published_time" content="{item.published.isoformat()}">')
    meta.append(f'<meta property="article:section" content="{_e(item.section)}">')
    direction = ' dir="rtl"' if o.language == "ar" else ""
    return (f'<!DOCTYPE html>\n<html lang="{o.language}"{direction}>\n<head>\n'
            + "\n".join(meta) + extra + "\n</head>\n")


def _paras(item: Item, head_cls: str, tail_cls: str) -> str:
    out = [f'<p class="{head_cls}">{_e(line)}</p>' for line in item.head]
    out += [f"<p>{_e(p)}</p>" for p in item.paragraphs]
    out += [f'<p class="{tail_cls}">{_e(line)}</p>' for line in item.tail]
    return "\n".join(out)


def _nav(item: Item, cls: str, home: str) -> str:
    links = "".join(f'<li><a href="/section/{i}">{_e(s)}</a></li>'
                    for i, s in enumerate(item.outlet.sections, 1))
    return f'<nav class="{cls}"><ul><li><a href="/">{_e(home)}</a></li>{links}</ul></nav>'


def _share(item: Item, label: str, cls: str) -> str:
    u = item.url
    return (f'<div class="{cls}"><span>{_e(label)}</span>'
            f'<a href="https://www.facebook.com/sharer/sharer.php?u={u}">Facebook</a>'
            f'<a href="https://x.com/intent/post?url={u}">X</a>'
            f'<a href="https://wa.me/?text={u}">WhatsApp</a></div>')


def _related(item: Item, cls: str, heading: str, with_snippet: bool) -> str:
    rows = []
    for r in item.related:
        text = f"<p>{_e(snippet(r.paragraphs[0]))}</p>" if with_snippet else ""
        rows.append(f'<li><a href="{r.path}">{_e(r.title)}</a><span class="sec">'
                    f"{_e(r.section)}</span>{text}</li>")
    return f'<aside class="{cls}"><h3>{_e(heading)}</h3><ul>{"".join(rows)}</ul></aside>'


def gulf(item: Item) -> str:
    o, dt = item.outlet, item.published
    return _head(item) + f"""<body class="gl-site">
<header class="masthead"><a class="logo" href="/">{_e(o.name)}</a>{_nav(item, "primary-nav", "Home")}</header>
<div class="crumbs"><a href="/">Home</a> &gt; <a href="/section/1">{_e(item.section)}</a> &gt; <span>{_e(item.title)}</span></div>
<main id="content">
<h1 class="headline">{_e(item.title)}</h1>
<div class="meta"><span class="byline">By {_e(item.author)}</span> <time datetime="{dt.isoformat()}">Published {en_date(dt)}, {dt:%H:%M} GST</time></div>
{_share(item, "Share", "share-bar")}
<article class="story-body">
{_paras(item, "credit", "credit")}
</article>
<section class="comments"><h3>Join the conversation</h3><form action="/comments" method="post"><textarea name="c" maxlength="255"></textarea><small>255 characters left</small><button>Post comment</button></form></section>
{_related(item, "related", "Related articles", False)}
</main>
<div class="newsletter"><h4>The Ledger Briefing</h4><p>Get the day's top business stories from the Gulf in your inbox every morning.</p><form><input type="email" placeholder="Email address"><button>Subscribe</button></form></div>
<footer><p>&copy; 2025 {_e(o.name)}. All rights reserved.</p><a href="/about">About us</a> <a href="/privacy">Privacy</a></footer>
</body>
</html>
"""


def harbor(item: Item) -> str:
    o, dt = item.outlet, item.published
    when = f'<p class="dateline">Updated {dt:%b} {dt.day}, {dt.year}</p>' if dt else ""
    return _head(item) + f"""<body>
<div id="top-bar"><span class="brand">{_e(o.name)}</span>{_nav(item, "menu", "Front page")}</div>
<div class="wrapper">
<ol class="breadcrumb"><li><a href="/">Front page</a></li><li><a href="/section/2">{_e(item.section)}</a></li></ol>
<article id="story">
<header><h1>{_e(item.title)}</h1>{when}<p class="author">{_e(item.author)}</p></header>
<div class="article-text">
{_paras(item, "standfirst", "footnote")}
</div>
</article>
{_share(item, "Share this story", "social")}
<div class="comment-box"><label>Leave a comment</label><textarea maxlength="255"></textarea><span class="counter">255 characters left</span></div>
{_related(item, "more-stories", "More from Harbor Times", False)}
<div class="signup">Sign up for the Harbor Times newsletter <input type="email"><button>Sign up</button></div>
</div>
<footer class="site-footer">&copy; Harbor Times Media. <a href="/terms">Terms</a> | <a href="/contact">Contact</a></footer>
</body>
</html>
"""


def meridian(item: Item) -> str:
    dt = item.published
    return _head(item) + f"""<body class="wire">
<header><div class="wire-logo">MERIDIAN WIRE</div>{_nav(item, "topics", "Latest")}</header>
<p class="path"><a href="/">Latest</a> / <a href="/section/3">{_e(item.section)}</a></p>
<div class="story-wrap">
<h1>{_e(item.title)}</h1>
<div class="story-meta"><span class="by">{_e(item.author)}</span> &middot; <span class="ts">{dt.day} {dt:%b %Y %H:%M} GMT</span></div>
<article>
{_paras(item, "note", "note")}
</article>
{_share(item, "Share", "share")}
<div class="licensing">For licensing and reprint rights, contact our syndication desk.</div>
{_related(item, "wire-related", "Related stories", False)}
<div class="feedback"><textarea maxlength="255"></textarea><em>255 characters left</em></div>
</div>
<div class="alerts">Meridian Wire alerts: breaking news from the region, free. <a href="/subscribe">Subscribe</a></div>
<footer>&copy; 2025 Meridian Wire. All rights reserved. Quotes delayed by 15 minutes.</footer>
</body>
</html>
"""


def rafid(item: Item) -> str:
    o, dt = item.outlet, item.published
    when = f"{ar_date(dt, AR_MONTHS_EG)}: {ar_clock(dt)}".replace(" 2025:", ", 2025:")
    return _head(item) + f"""<body class="rafid">
<div class="top-strip"><a href="#top">TOP</a></div>
<header class="site-head"><a href="/" class="logo">{_e(o.name)}</a>{_nav(item, "main-menu", "الرئيسية")}</header>
<div class="breadcrumbs"><a href="/">الرئيسية</a> &gt; <a href="/section/1">{_e(item.section)}</a> &gt; {_e(item.title)}</div>
<div class="post">
<h1 class="post-title">{_e(item.title)}</h1>
<div class="post-date">نشر في: {when}</div>
<article class="post-content">
{_paras(item, "translator", "source")}
</article>
{_share(item, "مشاركة", "share-links")}
<div class="comment-form"><h4>انضم الى المحادثة</h4><textarea maxlength="255"></textarea><span>255 حرف متبقي</span><button>إرسال</button></div>
{_related(item, "related-posts", "مقالات ذات صلة", True)}
</div>
<div class="newsletter-box">اشترك في النشرة البريدية لـ{_e(o.name)} <input type="email"><button>اشتراك</button></div>
<footer>جميع الحقوق محفوظة &copy; 2025 {_e(o.name)}</footer>
</body>
</html>
"""


def marsad(item: Item) -> str:
    o, dt = item.outlet, item.published
    when = f"{ar_date(dt, AR_MONTHS_LEV, True)} - {ar_clock(dt, True)}"
    return _head(item) + f"""<body>
<div class="mr-header"><div class="mr-logo">{_e(o.name)}</div>{_nav(item, "mr-nav", "الرئيسية")}</div>
<div class="mr-container">
<p class="mr-crumbs"><a href="/">الرئيسية</a> » <a href="/section/1">{_e(item.section)}</a></p>
<h1 class="mr-title">{_e(item.title)}</h1>
<div class="mr-meta"><span class="mr-author">{_e(item.author)}</span> | <span class="mr-date">نشر في: {when}</span></div>
<article class="mr-article">
<div class="mr-body">
{_paras(item, "mr-credit", "mr-source")}
</div>
</article>
<div class="mr-share">شارك: <a href="https://www.facebook.com/sharer/sharer.php?u={item.url}">فيسبوك</a> <a href="https://x.com/intent/post?url={item.url}">إكس</a> <a href="https://wa.me/?text={item.url}">واتساب</a></div>
<div class="mr-comments"><h4>أضف تعليقاً</h4><textarea maxlength="255"></textarea><small>متبقي 255 حرفاً</small></div>
{_related(item, "mr-related", "اقرأ أيضاً", False)}
</div>
<div class="mr-newsletter">النشرة اليومية: أهم الأخبار في بريدك كل صباح</div>
<footer class="mr-footer">© ٢٠٢٥ {_e(o.name)} - جميع الحقوق محفوظة</footer>
</body>
</html>
"""


def waha(item: Item) -> str:
    o, dt = item.outlet, item.published
    when = f"{AR_WEEKDAYS[dt.weekday()]} {ar_date(dt, AR_MONTHS_EG)}"
    return _head(item) + f"""<body class="waha-theme">
<header><div class="brand-ar">{_e(o.name)}</div>{_nav(item, "nav-ar", "الرئيسية")}</header>
<section class="page">
<div class="trail"><a href="/">الرئيسية</a> / <a href="/section/1">{_e(item.section)}</a> / <span>{_e(snippet(item.title, 40))}</span></div>
<div class="story-card">
<h1>{_e(item.title)}</h1>
<ul class="story-info"><li class="writer">كتب: {_e(item.author)}</li><li class="date">نشر في: {when}</li></ul>
<article>
{_paras(item, "intro-credit", "outro-credit")}
</article>
{_share(item, "مشاركة", "share-row")}
</div>
{_related(item, "side-related", "أخبار ذات صلة", True)}
<div class="comments-ar"><p>التعليقات</p><textarea maxlength="255"></textarea><span>متبقي 255 حرفاً</span></div>
<div class="subscribe-ar">اشترك في نشرة الواحة الإخبارية</div>
</section>
<footer>جميع الحقوق محفوظة لموقع {_e(o.name)} &copy; 2025</footer>
</body>
</html>
"""


TEMPLATES = {"gulf": gulf, "harbor": harbor, "meridian": meridian,
             "rafid": rafid, "marsad": marsad, "waha": waha}


def render_page(item: Item) -> str:
    return TEMPLATES[item.outlet.template](item)


def render_index(outlet_items: list[Item]) -> str:
    """A plain home page linking every entry (so ``/`` answers something)."""
    o = outlet_items[0].outlet
    links = "\n".join(f'<li><a href="{i.path}">{_e(i.title)}</a></li>' for i in outlet_items)
    return (f'<!DOCTYPE html>\n<html lang="{o.language}">\n<head><meta charset="utf-8">'
            f"<title>{_e(o.name)}</title>\n"
            f'<link rel="alternate" href="{o.feed_url}"></head>\n'
            f"<body><h1>{_e(o.name)}</h1>\n<ul>\n{links}\n</ul>\n</body>\n</html>\n")
