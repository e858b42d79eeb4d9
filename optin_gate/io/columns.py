"""Which of a user's columns is which: canonical names, `columns=` / `--map`, and header aliases.

Real files from Czech offices say `Telefonní číslo`, `tel.`, `Mobil` or `souhlas_id`. Headers are
compared after folding case, diacritics, spaces, dots, dashes and underscores, so
`Telefonní číslo` and `telefonni_cislo` are the same header. A column the user maps explicitly
always wins; then an exact canonical name; then the aliases below. Two columns answering to one
name is an error, never a guess.
"""

from __future__ import annotations

import difflib
import re
import shlex
import unicodedata
from collections.abc import Mapping, Sequence

from optin_gate.errors import InputError
from optin_gate.io.schemas import TableSchema

__all__ = ["ALIASES", "fold", "resolve_columns"]

# Header names a canonical column answers to, besides its own name (folded on comparison).
ALIASES: dict[str, tuple[str, ...]] = {
    name: tuple(words.split())
    for name, words in {
        "phone": "phone_number telephone telephone_number tel tel_c tel_cislo tel_number telefon "
        "telefonni_cislo cislo_telefonu telefonni_kontakt cislo mobil mobile mobile_phone "
        "mobilni_cislo mobilni_telefon msisdn number phone_no gsm",
        "consent_id": "consent souhlas_id id_souhlasu souhlas cislo_souhlasu id",
        "contract_id": "contract smlouva smlouva_id id_smlouvy cislo_smlouvy id",
        "objection_id": "objection namitka namitka_id id_namitky cislo_namitky id",
        "call_id": "call hovor_id id_hovoru cislo_hovoru id",
        "granted_at": "granted consented_at consent_date date_granted udeleno udeleni "
        "datum_udeleni souhlas_udelen udelen datum_souhlasu datum",
        "withdrawn_at": "withdrawn revoked_at revoked odvolano odvolani odvolan datum_odvolani "
        "zruseno",
        "expires_at": "expires expiry expiration valid_until platnost_do plati_do vyprsi expirace",
        "channel": "kanal komunikacni_kanal",
        "purposes": "purpose ucel ucely ucel_souhlasu ucely_souhlasu ucel_zpracovani",
        "wording": "consent_text text_souhlasu zneni zneni_souhlasu verze_textu verze_souhlasu",
        "proof": "evidence_ref doklad dukaz prokazani zaznam",
        "obtained": "obtained_from ziskano ziskan zpusob_ziskani",
        "captured_via": "captured capture_method forma_udeleni zpusob_udeleni zachyceno",
        "controller": "spravce spravce_udaju company firma spolecnost",
        "source": "zdroj puvod origin",
        "start_date": "start started_at start_at valid_from zacatek datum_zacatku od platnost_od "
        "zahajeni uzavreno datum_uzavreni",
        "end_date": "end ended_at end_at konec datum_konce do platnost_do ukonceni ukonceno "
        "datum_ukonceni",
        "customer_id": "customer zakaznik id_zakaznika cislo_zakaznika klient",
        "marketing": "marketing_flag marketingovy_souhlas souhlas_s_marketingem preference "
        "priznak oznaceni",
        "snapshot_date": "snapshot datum_snimku stav_k platnost_k datum_vydani",
        "objected_at": "objected objection_date datum_namitky namitka_ze_dne podano datum_podani "
        "datum date received_at",
        "called_at": "call_time called time timestamp datum_hovoru cas_hovoru cas datum date",
        "campaign": "kampan campaign_name nazev_kampane",
        "agent": "operator operatorka agent_id",
        "call_type": "typ_hovoru type typ",
        "registered": "registrovane registrovany registrace registracia zapisane na_zozname "
        "in_register on_list",
        "release_date": "release vydanie datum_vydania release_day snapshot_date",
        "sectors": "sector sektory sektor oblasti oblast areas",
        "registered_since": "since registrovane_od registrovany_od zapisane_od od_kedy "
        "registrace_od",
        "sector": "sektor oblast marketing_sector",
        "caller_id": "calling_line caller volajuci volajici linka cislo_linky a_number",
        "purpose": "ucel ucel_kampane ucel_hovoru",
    }.items()
}

_SEPARATORS = re.compile(r"[\s_\-.:/()#]+")


def fold(name: str) -> str:
    """A header for comparison: no case, no diacritics, no spaces, dots, dashes or underscores."""
    text = unicodedata.normalize("NFKD", name.replace("\ufeff", ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _SEPARATORS.sub("", text.casefold())


def _names(found: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in found) if found else "(none)"


def _map_hint(pairs: Sequence[tuple[str, str]]) -> str:
    cli = " ".join(f"--map {shlex.quote(f'{src}={dst}')}" for src, dst in pairs)
    py = ", ".join(f"{src!r}: {dst!r}" for src, dst in pairs)
    return f"{cli} (Python: columns={{{py}}})"


def _check_mapping(
    found: Sequence[str], schema: TableSchema, columns: Mapping[str, str], file: str | None
) -> dict[str, str]:
    chosen: dict[str, str] = {}
    for src, dst in columns.items():
        if dst not in schema:
            raise InputError(
                f"--map {src}={dst}: {dst!r} is not a column of {schema.name}",
                file=file,
                hint=f"map onto one of {', '.join(schema.names)}",
            )
        if src not in found:
            close = difflib.get_close_matches(src, list(found), n=1)
            guess = f"did you mean {close[0]!r}? " if close else ""
            raise InputError(
                f"--map {src}={dst}: the file has no column {src!r} "
                f"(found columns: {_names(found)})",
                file=file,
                hint=f"{guess}use a header exactly as the file spells it",
            )
        if dst in chosen:
            raise InputError(
                f"--map maps both {chosen[dst]!r} and {src!r} onto {dst!r}",
                file=file,
                hint="map one column onto each name",
            )
        chosen[dst] = src
    return chosen


def _claims(spec_name: str, folded: str) -> int:
    """2 for the canonical name itself, 1 for an alias, 0 for no match."""
    if folded == fold(spec_name):
        return 2
    return 1 if folded in {fold(a) for a in ALIASES.get(spec_name, ())} else 0


def _guess(spec_name: str, free: Sequence[str]) -> str | None:
    candidates = {fold(spec_name): spec_name} | {fold(a): a for a in ALIASES.get(spec_name, ())}
    best: tuple[float, str] | None = None
    for col in free:
        f = fold(col)
        if not f:
            continue
        score = max(
            difflib.SequenceMatcher(None, f, c).ratio() + (0.3 if c in f or f in c else 0)
            for c in candidates
        )
        if score >= 0.6 and (best is None or score > best[0]):
            best = (score, col)
    return best[1] if best else None


def resolve_columns(
    found: Sequence[str],
    schema: TableSchema,
    *,
    columns: Mapping[str, str] | None = None,
    file: str | None = None,
    require: Sequence[str] | None = None,
) -> dict[str, str]:
    """Find each of a schema's columns among a file's headers.

    Args:
        found: The file's headers, as spelled there.
        schema: The columns wanted.
        columns: The user's mapping, user header -> canonical name (`--map SRC=DST`).
        file: The file's name, for messages.
        require: Columns that must be found; default the schema's required ones.

    Returns:
        canonical name -> the file's header, for every schema column that was found.

    Raises:
        InputError: A mapping names a missing header or unknown column, two headers answer to
            one name, or a required column is missing (the message lists the headers found and
            the `--map` that would fix it).
    """
    chosen = _check_mapping(found, schema, columns or {}, file)
    taken = set(chosen.values())
    for spec in schema.fields:
        if spec.name in chosen:
            continue
        matches: dict[int, list[str]] = {2: [], 1: []}
        for col in found:
            if col in taken:
                continue
            rank = _claims(spec.name, fold(col))
            if rank:
                matches[rank].append(col)
        best = matches[2] or matches[1]
        if len(best) > 1:
            raise InputError(
                f"columns {_names(best)} all look like {spec.name!r}",
                file=file,
                hint=f"say which one to use: {_map_hint([(best[0], spec.name)])}",
            )
        if best:
            chosen[spec.name] = best[0]
            taken.add(best[0])
    needed = schema.required if require is None else tuple(require)
    missing = [name for name in needed if name not in chosen]
    if missing:
        free = [c for c in found if c not in taken]
        pairs = []
        for name in missing:
            guess = _guess(name, free)
            if guess is not None:
                free.remove(guess)
            pairs.append((guess or "COLUMN", name))
        what = "column" if len(missing) == 1 else "columns"
        raise InputError(
            f"required {what} {', '.join(repr(m) for m in missing)} not found for "
            f"{schema.name}; the file has columns {_names(found)}",
            file=file,
            column=missing[0] if len(missing) == 1 else None,
            hint=f"name the column(s) with {_map_hint(pairs)}",
        )
    return chosen
