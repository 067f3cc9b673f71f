"""Filter a Hugging Face ``datasets.Dataset`` or a pandas ``DataFrame`` through the registry.

    from dedup.client import Client
    from dedup.integrations import filter_dataframe, registry_annotate, registry_filter

    client = Client("https://registry.example.org", api_key=os.environ["REGISTRY_API_KEY"])
    keep = registry_filter(client, purpose="train-genai", text_column="text")
    dataset = dataset.filter(keep, batched=True, batch_size=1000)   # Hugging Face datasets
    df = df[keep.mask(df)]                                           # pandas
    df = filter_dataframe(client, df, "train-genai", add_columns=True)
    dataset = dataset.map(registry_annotate(client, "train-genai"), batched=True)  # adds columns

A row is kept unless the registry's decision is ``exclude``; ``attribute`` rows are kept (the
decision columns say whom to credit). Neither pandas nor datasets is imported here: the helpers
work on anything shaped like them (a mapping of column -> list for a batch, an object with
``.index`` and ``__getitem__`` for a frame), and pandas is imported only to build a mask.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "DECISION_COLUMN",
    "REASONS_COLUMN",
    "RegistryFilter",
    "filter_dataframe",
    "registry_annotate",
    "registry_filter",
]

DECISION_COLUMN = "registry_decision"
REASONS_COLUMN = "registry_reasons"
EXCLUDE = "exclude"


class RegistryFilter:
    """A predicate over rows, batches or frames, asking the registry for each row's decision.

    Args:
        client: a `dedup.client.Client` with a ``filter`` key.
        purpose: the intended use (``train-ai``, ``train-genai``, ``ai-use``, ``search``).
        text_column: the column with each row's text (None to send URLs only).
        url_column: an optional column with each row's source URL.
        id_column: an optional column sent as each document's id.
        language_column: an optional column with each row's programming language.
    """

    def __init__(
        self,
        client,
        purpose: str,
        *,
        text_column: str | None = "text",
        url_column: str | None = None,
        id_column: str | None = None,
        language_column: str | None = None,
    ) -> None:
        if text_column is None and url_column is None:
            raise ValueError("give text_column, url_column or both")
        self.client = client
        self.purpose = purpose
        self.text_column = text_column
        self.url_column = url_column
        self.id_column = id_column
        self.language_column = language_column

    # --- what is sent ---------------------------------------------------------------------

    def _columns(self) -> dict[str, str]:
        pairs = {
            "text": self.text_column,
            "url": self.url_column,
            "id": self.id_column,
            "language": self.language_column,
        }
        return {field: column for field, column in pairs.items() if column is not None}

    def decide(self, columns: Mapping[str, Sequence[Any]]) -> list[dict]:
        """The registry's result for each row of a column-oriented batch."""
        fields = self._columns()
        lengths = {len(columns[column]) for column in fields.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of different lengths: {sorted(lengths)}")
        n = lengths.pop() if lengths else 0
        documents = []
        for i in range(n):
            doc = {}
            for field, column in fields.items():
                value = columns[column][i]
                if value is not None and value == value:  # None and NaN (pandas' missing) are left out
                    doc[field] = value if field == "text" else str(value)
            documents.append(doc)
        results = self.client.filter(documents, purpose=self.purpose) if documents else []
        if len(results) != n:
            raise RuntimeError(f"the registry answered {len(results)} results for {n} documents")
        return results

    # --- datasets.Dataset.filter ----------------------------------------------------------

    def __call__(self, batch: Mapping[str, Any]) -> list[bool] | bool:
        """For ``dataset.filter(keep, batched=True)`` (a list of bools) or one example (a bool)."""
        column = self.text_column or self.url_column
        if _is_sequence(batch[column]):
            return [r.get("decision") != EXCLUDE for r in self.decide(batch)]
        single = {name: [batch[name]] for name in self._columns().values()}
        return self.decide(single)[0].get("decision") != EXCLUDE

    # --- pandas -----------------------------------------------------------------------------

    def results(self, df) -> list[dict]:
        """The registry's result for every row of a DataFrame, in row order."""
        return self.decide({column: list(df[column]) for column in self._columns().values()})

    def mask(self, df):
        """A boolean ``pandas.Series`` on ``df.index``: True for the rows to keep."""
        import pandas as pd

        keep = [r.get("decision") != EXCLUDE for r in self.results(df)]
        return pd.Series(keep, index=df.index, dtype=bool)


def registry_filter(client, purpose: str, **columns: Any) -> RegistryFilter:
    """A predicate for ``Dataset.filter(..., batched=True)`` and ``df[keep.mask(df)]``."""
    return RegistryFilter(client, purpose, **columns)


def registry_annotate(client, purpose: str, **columns: Any):
    """A function for ``Dataset.map(fn, batched=True)`` adding the decision columns.

    ``registry_decision`` (``allow``, ``attribute`` or ``exclude``) and ``registry_reasons``
    (the reasons as a JSON string: a column of nested, varying dicts does not suit Arrow).
    """
    keep = RegistryFilter(client, purpose, **columns)

    def annotate(batch: Mapping[str, Any]) -> dict[str, list]:
        results = keep.decide(batch)
        return {
            DECISION_COLUMN: [r.get("decision") for r in results],
            REASONS_COLUMN: [json.dumps(r.get("reasons", [])) for r in results],
        }

    return annotate


def filter_dataframe(client, df, purpose: str, *, add_columns: bool = False, **columns: Any):
    """The rows of `df` the registry does not exclude for `purpose` (a new DataFrame).

    Args:
        add_columns: also add ``registry_decision`` and ``registry_reasons`` (a list of dicts).
        columns: text_column, url_column, id_column, language_column (see `RegistryFilter`).
    """
    import pandas as pd

    results = RegistryFilter(client, purpose, **columns).results(df)
    keep = pd.Series([r.get("decision") != EXCLUDE for r in results], index=df.index, dtype=bool)
    out = df.copy()
    if add_columns:
        out[DECISION_COLUMN] = [r.get("decision") for r in results]
        out[REASONS_COLUMN] = [r.get("reasons", []) for r in results]
    return out[keep]


def _is_sequence(value: Any) -> bool:
    return (
        not isinstance(value, str | bytes | Mapping)
        and hasattr(value, "__len__")
        and hasattr(value, "__getitem__")
    )
