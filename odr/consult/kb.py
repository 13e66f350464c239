"""The knowledge base: articles shipped as Markdown files, edited by admins, searched in Chinese and English.

Search splits the query into terms — Latin words, and for Chinese each run of
characters plus its two-character pieces, since most Chinese words are two
characters long — and ranks articles by where the terms occur (title, keywords,
text). Plain ``LIKE``/``ILIKE`` matching works the same on SQLite and
PostgreSQL. A trigram index (FTS5 trigram, pg_trgm) cannot serve two-character
terms, and the knowledge base is hundreds of articles, not millions, so a scan
of it is cheap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
import yaml
from markupsafe import Markup

from odr.cases.models import Category
from odr.consult.models import Article
from odr.extensions import db

KB_FOLDER = Path(__file__).parent / "kb"
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
LATIN = re.compile(r"[A-Za-z0-9]{2,}")
MAX_TERMS = 12
ALLOWED_TAGS = {"h2", "h3", "h4", "p", "ul", "ol", "li", "strong", "em", "blockquote", "code", "br", "hr",
                "table", "thead", "tbody", "tr", "th", "td"}


def terms(query: str) -> list[str]:
    """Search terms of a query, most specific first, without repeats."""
    out: list[str] = []
    for run in CJK.findall(query):
        out.append(run)
        out.extend(run[i:i + 2] for i in range(len(run) - 1))
    out.extend(w.lower() for w in LATIN.findall(query))
    seen, unique = set(), []
    for t in out:
        if t not in seen:
            seen.add(t)
            unique.append(t)
    return unique[:MAX_TERMS]


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass
class Hit:
    article: Article
    score: int


def search(query: str, lang: str, limit: int = 10, category: Category | None = None) -> list[Hit]:
    found = terms(query or "")
    if not found:
        return []
    score = sa.literal(0)
    for t in found:
        pattern = _like(t)
        weight = 2 if len(t) > 2 else 1
        score = score + sa.case((Article.title.ilike(pattern, escape="\\"), 3 * weight), else_=0) \
            + sa.case((Article.tags.ilike(pattern, escape="\\"), 2 * weight), else_=0) \
            + sa.case((Article.body.ilike(pattern, escape="\\"), weight), else_=0)
    query_ = sa.select(Article, score).where(Article.lang == lang, score > 0)
    if category is not None:
        query_ = query_.where(Article.category == category)
    rows = db.session.execute(query_.order_by(score.desc(), Article.id).limit(limit)).all()
    return [Hit(article, points) for article, points in rows]


def suggestions(category: Category, topic: str, lang: str, limit: int = 3) -> list[Article]:
    """Articles to read while waiting: about the topic if possible, else about the kind of dispute."""
    hits = [h.article for h in search(topic, lang, limit=limit, category=category)]
    if len(hits) < limit:
        more = db.session.scalars(sa.select(Article).where(Article.lang == lang, Article.category == category,
                                                           Article.id.not_in([a.id for a in hits] or [0]))
                                  .order_by(Article.slug).limit(limit - len(hits)))
        hits.extend(more)
    return hits


def render(body: str) -> Markup:
    import markdown  # on first use: with nh3, ~3 MB that only article pages need
    import nh3

    html = markdown.markdown(body, extensions=["tables", "sane_lists"])
    return Markup(nh3.clean(html, tags=ALLOWED_TAGS, attributes={}))


def parse_file(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        raise ValueError(f"{path.name}: no front matter")
    _, front, body = text.split("---", 2)
    meta = yaml.safe_load(front)
    slug, lang = path.name[:-len(".md")].rsplit(".", 1)
    tags = meta.get("tags") or []
    return {"slug": slug, "lang": lang, "title": str(meta["title"]).strip(), "category": Category(meta["category"]),
            "tags": " ".join(str(t) for t in tags), "body": body.strip()}


def import_folder(folder: Path = KB_FOLDER, overwrite: bool = False) -> int:
    """Load the shipped articles; existing ones (possibly edited by admins) are kept unless ``overwrite``."""
    count = 0
    for path in sorted(folder.glob("*.*.md")):
        data = parse_file(path)
        article = db.session.scalar(sa.select(Article).where(Article.slug == data["slug"],
                                                             Article.lang == data["lang"]))
        if article is not None and not overwrite:
            continue
        if article is None:
            article = Article(slug=data["slug"], lang=data["lang"])
            db.session.add(article)
        article.title, article.category, article.tags, article.body = (
            data["title"], data["category"], data["tags"], data["body"])
        count += 1
    db.session.flush()
    return count
