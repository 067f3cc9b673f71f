"""Machine-readable exports of a work's or an author's preferences, for their own web server.

An author who hosts the work can publish what they told the registry where crawlers look:

- the HTTP ``Content-Usage`` field of the IETF AI Preferences drafts (draft-ietf-aipref-attach,
  vocabulary from draft-ietf-aipref-vocab): a Structured Field Dictionary (RFC 9651) of usage
  categories with the tokens ``y`` / ``n``, e.g. ``Content-Usage: train-ai=n, search=y``;
  ``unset`` is simply left out, as the vocabulary prescribes;
- the same expression in robots.txt, as the attach draft's rule ``Content-Usage: <path> <pref>``
  inside the ``User-Agent: *`` group;
- robots.txt groups that disallow the known AI crawlers whose purpose the author refused
  (`AI_CRAWLERS` maps each to the usage categories it serves);
- W3C TDMRep (Text and Data Mining Reservation Protocol): the ``tdm-reservation: 1`` header and a
  ``/.well-known/tdmrep.json`` entry. TDM is reserved when any AI category (``train-ai``,
  ``train-genai``, ``ai-use``) is ``no``; search indexing is left out, since TDMRep is about
  mining the content, not linking to it. ``tdm-policy`` points at the registry's public export
  of the work when there is one.

Paths: a work's exports use the paths of its registered URLs and domains (``/`` for a domain);
repository hosts' robots.txt is not the author's to edit, so repositories add no path. With no
URL or domain, and for an author's defaults, the path is ``/`` (the whole site).

Never any registered text: only the preferences, the title and the public id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from django.conf import settings
from django.urls import reverse

from registry.preferences import vocabulary

# Usage categories a TDM reservation covers (see the module docstring).
TDM_CATEGORIES = ("train-ai", "train-genai", "ai-use")


@dataclass(frozen=True)
class Crawler:
    user_agent: str
    operator: str
    categories: tuple[str, ...]  # a "no" on any of them disallows the crawler
    purpose: str


# Product tokens as their operators document them, and what each crawler's content is used for.
AI_CRAWLERS: tuple[Crawler, ...] = (
    Crawler("GPTBot", "OpenAI", ("train-genai",), "training generative models"),
    Crawler("ClaudeBot", "Anthropic", ("train-genai",), "training generative models"),
    Crawler("Google-Extended", "Google", ("train-genai", "ai-use"), "Gemini training and grounding"),
    Crawler("Applebot-Extended", "Apple", ("train-genai",), "training generative models"),
    Crawler("Meta-ExternalAgent", "Meta", ("train-genai",), "training generative models"),
    Crawler("Bytespider", "ByteDance", ("train-genai",), "training generative models"),
    # Common Crawl's archive is a general dataset that feeds both AI and generative AI training.
    Crawler("CCBot", "Common Crawl", ("train-ai", "train-genai"), "an open crawl used for AI training"),
    Crawler("PerplexityBot", "Perplexity", ("search",), "an AI search index"),
    Crawler("OAI-SearchBot", "OpenAI", ("search",), "ChatGPT search results"),
    Crawler("Claude-SearchBot", "Anthropic", ("search",), "search results in Claude"),
    Crawler("ChatGPT-User", "OpenAI", ("ai-use",), "fetching pages to answer a user"),
    Crawler("Claude-User", "Anthropic", ("ai-use",), "fetching pages to answer a user"),
    Crawler("Perplexity-User", "Perplexity", ("ai-use",), "fetching pages to answer a user"),
)

_TOKEN = {vocabulary.YES: "y", vocabulary.NO: "n"}
# Characters robots.txt paths keep as they are (RFC 3986 pchar and "/"); the rest is %-encoded.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


def content_usage(values: Mapping[str, str]) -> str:
    """The Content-Usage expression: ``train-ai=n, search=y`` (vocabulary order, unset left out)."""
    return ", ".join(
        f"{key}={_TOKEN[values[key]]}" for key in vocabulary.USAGE_CATEGORIES if values.get(key) in _TOKEN
    )


def tdm_reservation(values: Mapping[str, str]) -> int:
    """1 if any AI category is refused, else 0 (TDMRep's values)."""
    return int(any(values.get(key) == vocabulary.NO for key in TDM_CATEGORIES))


def refused_crawlers(values: Mapping[str, str]) -> list[Crawler]:
    return [c for c in AI_CRAWLERS if any(values.get(key) == vocabulary.NO for key in c.categories)]


def _robots_path(path: str) -> str:
    return quote(path, safe=_PATH_SAFE) or "/"


def robots_txt(values: Mapping[str, str], paths: Sequence[str], *, comment: str = "") -> str:
    """robots.txt lines: the Content-Usage rule for every path, then the refused AI crawlers."""
    paths = [_robots_path(p) for p in paths] or ["/"]
    # A title is the author's text: one line, so it cannot add directives to the file.
    comment = " ".join(comment.split())
    lines = [f"# {comment}"] if comment else []
    expression = content_usage(values)
    lines.append("User-Agent: *")
    if expression:
        lines.extend(f"Content-Usage: {path} {expression}" for path in paths)
    else:
        lines.append("# No AI preference stated: nothing to add.")
    crawlers = refused_crawlers(values)
    if crawlers:
        lines.append("")
        for crawler in crawlers:
            refused = ", ".join(f"{k}=n" for k in crawler.categories if values.get(k) == vocabulary.NO)
            lines.append(f"# {crawler.operator}, {crawler.purpose} ({refused})")
            lines.append(f"User-Agent: {crawler.user_agent}")
        lines.extend(f"Disallow: {path}" for path in paths)
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Export:
    """Every export of one set of preferences. `to_dict` is the API's answer."""

    values: dict[str, str]
    paths: tuple[str, ...]
    policy_url: str | None = None
    comment: str = ""
    content_usage: str = field(init=False)
    tdm_reservation: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "content_usage", content_usage(self.values))
        object.__setattr__(self, "tdm_reservation", tdm_reservation(self.values))

    @property
    def headers(self) -> dict[str, str]:
        headers = {}
        if self.content_usage:
            headers["Content-Usage"] = self.content_usage
        headers["tdm-reservation"] = str(self.tdm_reservation)
        if self.tdm_reservation and self.policy_url:
            headers["tdm-policy"] = self.policy_url
        return headers

    @property
    def tdmrep(self) -> list[dict]:
        entries = []
        for path in self.paths:
            entry = {"location": _robots_path(path), "tdm-reservation": self.tdm_reservation}
            if self.tdm_reservation and self.policy_url:
                entry["tdm-policy"] = self.policy_url
            entries.append(entry)
        return entries

    @property
    def tdmrep_json(self) -> str:
        return json.dumps(self.tdmrep, indent=2)

    @property
    def robots_txt(self) -> str:
        return robots_txt(self.values, self.paths, comment=self.comment)

    @property
    def header_lines(self) -> str:
        return "".join(f"{name}: {value}\n" for name, value in self.headers.items())

    def to_dict(self) -> dict:
        return {
            "preferences": {key: self.values.get(key, vocabulary.UNSET) for key in vocabulary.KEYS},
            "paths": list(self.paths),
            "content_usage": self.content_usage,
            "headers": self.headers,
            "tdmrep": self.tdmrep,
            "robots_txt": self.robots_txt,
        }


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def work_paths(work) -> tuple[str, ...]:
    """The paths on the author's own site: those of the work's URL and domain locations."""
    from dedup.locations import path_of  # on use: importing dedup loads numpy (registry/engine.py)

    paths = [path_of(loc.normalised) for loc in work.locations.all() if loc.kind != "repository"]
    return tuple(dict.fromkeys(paths)) or ("/",)


def work_export(work) -> Export:
    from registry.preferences.selectors import effective_preferences

    values = {key: decision.value for key, decision in effective_preferences(work).items()}
    url = _absolute(reverse("api:work-preferences-export", kwargs={"public_id": work.public_id}))
    return Export(
        values=values,
        paths=work_paths(work),
        policy_url=url,
        comment=f"AI preferences for \u201c{work.title}\u201d, as registered at {url}",
    )


def author_export(user) -> Export:
    from registry.preferences.selectors import default_preferences

    values = {key: decision.value for key, decision in default_preferences(owner=user).items()}
    return Export(values=values, paths=("/",), comment="AI preferences: the author's defaults")
