"""Catalog loaders for user data: ``jsonl:PATH``, ``csv:PATH[#MAPPING.json]``, ``spotify:PATH`` (BEIR: :mod:`ltrr_core.catalog.beir`).

Every user mistake (missing file, unknown column, malformed line, a field of the wrong type,
duplicate id, bad number, a corrupt or truncated ``.gz``, text that is not UTF-8, a value over
its size limit, :mod:`ltrr_core.base.text_files`) raises :class:`CatalogError` naming the file,
the 1-based line and the field, and the fix.
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Mapping

from ltrr_core.base.text_files import MAX_FIELD_CHARS, numbered_lines
from ltrr_core.catalog.schema import Catalog, CatalogError, Entity, check_text

if TYPE_CHECKING:
    import pandas as pd

ENTITY_FIELDS = tuple(f.name for f in fields(Entity))
REQUIRED_FIELDS = ("id", "type", "title")
LIST_FIELDS = ("genres", "moods")
MAPPING_OPTIONS = {"popularity_scale", "separator"}
_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


# ---------------------------------------------------------------- shared helpers
def json_lines(path: Path) -> Iterator[tuple[int, dict]]:
    """(1-based line number, JSON object) for every non-blank line of a plain or gzip file (told
    by its magic bytes), read a bounded line at a time (:func:`~ltrr_core.base.text_files.numbered_lines`)."""
    if not path.is_file():
        raise CatalogError(f"{path}: file not found; check the path (it is resolved from {Path.cwd()})")
    for number, line in numbered_lines(path, path.name, CatalogError):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise CatalogError(
                f"{path.name}, line {number}: malformed JSON ({error.msg} at column {error.colno}); "
                "each line must be one JSON object — fix or delete that line"
            ) from None
        if not isinstance(record, dict):
            raise CatalogError(f"{path.name}, line {number}: expected a JSON object, got {type(record).__name__}")
        yield number, record


def unique_catalog(entities_with_lines: list[tuple[int, Entity]], path: Path, source: str) -> Catalog:
    first_line: dict[str, int] = {}
    for number, entity in entities_with_lines:
        if entity.id in first_line:
            raise CatalogError(
                f"{path.name}, line {number}, field 'id': duplicate id {entity.id!r} (first on line "
                f"{first_line[entity.id]}); ids must be unique — rename or drop one of them"
            )
        first_line[entity.id] = number
    return Catalog((e for _, e in entities_with_lines), source=source)


def iso_date(value: str) -> str:
    """``YYYY`` -> ``YYYY-01-01``, ``YYYY-MM`` -> ``YYYY-MM-01``, ``YYYY-MM-DD`` kept; ``''`` stays empty."""
    value = value.strip()
    if not value:
        return ""
    match = _DATE.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a date; write YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
    return f"{year}-{month}-{day}"


# ---------------------------------------------------------------- jsonl
def load_jsonl(path: str | Path, source: str | None = None) -> Catalog:
    """One Entity JSON object per line (plain or gzip); missing optional fields take defaults."""
    path = Path(path)
    rows = []
    for number, record in json_lines(path):
        missing = [f for f in REQUIRED_FIELDS if not record.get(f)]
        if missing:
            raise CatalogError(f"{path.name}, line {number}, field {missing[0]!r}: missing or empty; every line needs {list(REQUIRED_FIELDS)}")
        try:
            rows.append((number, Entity.from_json(record)))
        except CatalogError as error:
            raise CatalogError(f"{path.name}, line {number}, {error}") from None
    return unique_catalog(rows, path, source or f"jsonl:{path}")


# ---------------------------------------------------------------- csv with a column mapping
@dataclass(frozen=True)
class CsvMapping:
    """Which CSV column (or constant, ``{"const": value}``) feeds each Entity field.

    ``genres``/``moods`` columns hold ``separator``-joined names (``pop;rock`` or ``pop:0.7;rock:0.3``);
    ``popularity`` is divided by ``popularity_scale`` (100 for 0-100 scores).
    """

    columns: Mapping[str, str]
    constants: Mapping[str, str]
    popularity_scale: float = 1.0
    separator: str = ";"
    origin: str = "mapping"

    @classmethod
    def parse(cls, mapping: Mapping, origin: str = "mapping") -> "CsvMapping":
        if not isinstance(mapping, Mapping):
            raise CatalogError(f"{origin}: the mapping must be a JSON object {{field: column}}")
        columns, constants = {}, {}
        for key, value in mapping.items():
            if key in MAPPING_OPTIONS:
                continue
            if key not in ENTITY_FIELDS or key == "related":
                allowed = [f for f in ENTITY_FIELDS if f != "related"] + sorted(MAPPING_OPTIONS)
                raise CatalogError(f"{origin}, field {key!r}: not an entity field; use one of {allowed}")
            if isinstance(value, str) and value:
                columns[key] = value
            elif isinstance(value, Mapping) and set(value) == {"const"}:
                constants[key] = str(value["const"])
            else:
                raise CatalogError(f"{origin}, field {key!r}: {value!r} is neither a column name nor {{\"const\": value}}")
        for key in REQUIRED_FIELDS:
            if key not in columns and key not in constants:
                hint = '{"const": "track"}' if key == "type" else '"<column name>"'
                raise CatalogError(f"{origin}, field {key!r}: required; add \"{key}\": {hint}")
        scale = mapping.get("popularity_scale", 1.0)
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or scale <= 0:
            raise CatalogError(f"{origin}, field 'popularity_scale': {scale!r} must be a positive number (100 for 0-100 scores)")
        separator = mapping.get("separator", ";")
        if not isinstance(separator, str) or not separator:
            raise CatalogError(f"{origin}, field 'separator': {separator!r} must be a non-empty string")
        return cls(columns, constants, float(scale), separator, origin)


def _weighted_names(text: str, separator: str) -> dict[str, float]:
    weights = {}
    for part in text.split(separator):
        name, _, weight = part.strip().partition(":")
        if name.strip():
            weights[name.strip()] = float(weight) if weight.strip() else 1.0
    return weights


def _csv_value(field: str, raw: str, mapping: CsvMapping):
    if field == "genres":
        return _weighted_names(raw, mapping.separator)
    if field == "moods":
        return tuple(m.strip() for m in raw.split(mapping.separator) if m.strip())
    if field == "popularity":
        return float(raw) / mapping.popularity_scale if raw.strip() else 0.0
    if field in ("release_date", "date_added"):
        return iso_date(raw)
    return raw.strip()


def _read_csv(path: Path) -> "pd.DataFrame":
    import pandas as pd  # imported on use: the default catalog loads without it

    if not path.is_file():
        raise CatalogError(f"{path}: file not found; check the path (it is resolved from {Path.cwd()})")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise CatalogError(f"{path.name}: the file is empty; it needs a header row and at least one data row") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise CatalogError(f"{path.name}: cannot parse as CSV ({error}); save it as UTF-8 comma-separated text") from None
    except (OSError, EOFError, zlib.error) as error:
        raise CatalogError(f"{path.name}: cannot read it ({error}); the file is truncated or corrupt — export it again") from None
    for column in frame.columns:
        lengths = frame[column].str.len().to_numpy()
        if len(lengths) and lengths.max() > MAX_FIELD_CHARS:
            row = int(lengths.argmax())
            raise CatalogError(f"{path.name}, line {row + 2}, column {column!r}: {int(lengths[row]):,} characters, over "
                               f"the limit of {MAX_FIELD_CHARS:,}; shorten the cell")
    return frame


def load_csv(path: str | Path, mapping: Mapping | None = None, source: str | None = None) -> Catalog:
    """A CSV file mapped onto entities; without ``mapping``, columns named like Entity fields are used.

    Line numbers in errors count the header as line 1 (quoted multi-line cells shift them).
    """
    path = Path(path)
    frame = _read_csv(path)
    if mapping is None:
        mapping = {c: c for c in frame.columns if c in ENTITY_FIELDS and c != "related"}
    spec = CsvMapping.parse(mapping, origin=f"{path.name} mapping")
    absent = {f: c for f, c in spec.columns.items() if c not in frame.columns}
    if absent:
        field, column = next(iter(absent.items()))
        raise CatalogError(f"{path.name}, line 1, field {field!r}: column {column!r} is not in the header; "
                           f"fix the mapping — available columns: {list(frame.columns)}")
    rows = []
    for index, record in enumerate(frame[list(spec.columns.values())].itertuples(index=False, name=None)):
        number = index + 2
        values: dict = dict(spec.constants)
        for (field, column), raw in zip(spec.columns.items(), record):
            try:
                values[field] = _csv_value(field, check_text(field, raw), spec)
            except CatalogError as error:
                raise CatalogError(f"{path.name}, line {number}, {error} (column {column!r})") from None
            except ValueError as error:
                raise CatalogError(f"{path.name}, line {number}, field {field!r} (column {column!r}): {raw!r} is not valid "
                                   f"({error}); fix the cell or drop the field from the mapping") from None
        for field in REQUIRED_FIELDS:
            if not values.get(field):
                raise CatalogError(f"{path.name}, line {number}, field {field!r}: empty; every row needs a {field}")
        if not 0.0 <= values.get("popularity", 0.0) <= 1.0:
            raise CatalogError(f"{path.name}, line {number}, field 'popularity': {values['popularity']:g} is outside [0, 1] "
                               f"after dividing by popularity_scale={spec.popularity_scale:g}; set popularity_scale in the mapping")
        rows.append((number, Entity(**values)))
    return unique_catalog(rows, path, source or f"csv:{path}")


def _read_mapping(path: Path) -> dict:
    if not path.is_file():
        raise CatalogError(f"{path}: mapping file not found; write csv:DATA.csv#MAPPING.json with an existing JSON file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise CatalogError(f"{path.name}, line {error.lineno}: malformed JSON ({error.msg}); the mapping is one JSON object") from None


def csv_source(argument: str) -> Catalog:
    """``csv:PATH#MAPPING.json``: a CSV with the column mapping read from the JSON file after ``#``."""
    data, _, mapping_file = argument.partition("#")
    mapping = _read_mapping(Path(mapping_file)) if mapping_file else None
    return load_csv(data, mapping, source=f"csv:{argument}")


# ---------------------------------------------------------------- spotify songs (TidyTuesday)
SPOTIFY_COLUMNS = (
    "track_id", "track_name", "track_artist", "track_popularity", "track_album_id", "track_album_name",
    "track_album_release_date", "playlist_name", "playlist_id", "playlist_genre", "playlist_subgenre",
    "energy", "valence", "acousticness",
)


def stable_id(kind: str, name: str) -> str:
    """An id derived from the name only, so it survives re-ordering and re-loading."""
    return f"{kind}_{hashlib.sha1(name.encode('utf-8')).hexdigest()[:12]}"


def moods_from_audio(valence: float, energy: float, acousticness: float) -> tuple[str, ...]:
    """Spotify audio features -> mood tags (valence ~ positivity, energy ~ intensity)."""
    moods = []
    if valence >= 0.6:
        moods.append("happy")
    elif valence <= 0.35:
        moods.append("sad" if energy < 0.5 else "melancholic")
    if energy >= 0.75:
        moods.append("energetic")
    elif energy <= 0.4:
        moods.append("peaceful" if acousticness >= 0.7 else "chill")
    if valence <= 0.35 and energy >= 0.75:
        moods.append("dark")
    return tuple(moods)


def _spotify_frame(path: Path) -> "pd.DataFrame":
    import pandas as pd

    frame = _read_csv(path)
    missing = [c for c in SPOTIFY_COLUMNS if c not in frame.columns]
    if missing:
        raise CatalogError(f"{path.name}, line 1, field {missing[0]!r}: column missing; the spotify: loader expects the "
                           f"TidyTuesday spotify_songs.csv layout — use csv:PATH#MAPPING.json for other files")
    for column in ("track_popularity", "energy", "valence", "acousticness"):
        numbers = pd.to_numeric(frame[column], errors="coerce")
        bad = numbers.isna()
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise CatalogError(f"{path.name}, line {row + 2}, field {column!r}: {frame[column].iloc[row]!r} is not a number; fix the cell")
        frame[column] = numbers
    for column in ("track_name", "track_artist", "track_album_name"):  # the TidyTuesday export writes missing as NA
        frame[column] = frame[column].replace({"NA": ""})
    return frame


def load_spotify(path: str | Path) -> Catalog:
    """TidyTuesday Spotify songs (one row per track x playlist) -> tracks, artists, albums, playlists."""
    path = Path(path)
    frame = _spotify_frame(path)
    first = frame.drop_duplicates("track_id")
    genre_counts = Counter(zip(frame["track_id"], frame["playlist_genre"]))
    sub_counts = Counter(zip(frame["track_id"], frame["playlist_subgenre"]))
    appearances = Counter(frame["track_id"])
    track_genres: dict[str, dict[str, float]] = defaultdict(dict)
    for (track, genre), n in genre_counts.items():
        track_genres[track][genre] = round(n / appearances[track], 3)
    for (track, sub), n in sub_counts.items():
        if sub not in track_genres[track]:
            track_genres[track][sub] = round(0.5 * n / appearances[track], 3)

    tracks, album_rows, artist_tracks = [], defaultdict(list), defaultdict(list)
    for number, row in zip(first.index + 2, first.itertuples(index=False)):
        try:
            release = iso_date(row.track_album_release_date)
        except ValueError as error:
            raise CatalogError(f"{path.name}, line {number}, field 'track_album_release_date': {error}") from None
        artist_id = stable_id("artist", row.track_artist) if row.track_artist else ""
        top_genre = max(track_genres[row.track_id], key=track_genres[row.track_id].get)
        track = Entity(
            id=row.track_id, type="track", title=row.track_name or "(missing title)", creator=row.track_artist, album=row.track_album_name,
            genres=track_genres[row.track_id], moods=moods_from_audio(row.valence, row.energy, row.acousticness),
            release_date=release, popularity=row.track_popularity / 100.0,
            description=f"{row.playlist_subgenre.capitalize()} ({top_genre}) track by {row.track_artist or 'an unknown artist'}"
                        f" from {row.track_album_name or 'an untitled album'}" + (f" ({release[:4]})." if release else "."),
            related={"artist": (artist_id,), "album": (row.track_album_id,)} if artist_id else {"album": (row.track_album_id,)},
        )
        tracks.append((number, track))
        album_rows[row.track_album_id].append(track)
        if artist_id:
            artist_tracks[artist_id].append(track)

    def mix(members: list[Entity]) -> dict[str, float]:
        total: dict[str, float] = defaultdict(float)
        for member in members:
            for genre, weight in member.genres.items():
                total[genre] += weight / len(members)
        return {g: round(w, 3) for g, w in sorted(total.items(), key=lambda kv: -kv[1])}

    albums, artist_albums = [], defaultdict(list)
    for album_id, members in album_rows.items():
        creator = Counter(t.creator for t in members).most_common(1)[0][0]
        artist_id = stable_id("artist", creator) if creator else ""
        if artist_id:
            artist_albums[artist_id].append(album_id)
        albums.append((0, Entity(
            id=album_id, type="album", title=members[0].album or "(missing title)", creator=creator, genres=mix(members),
            release_date=members[0].release_date, popularity=max(t.popularity for t in members),
            description=f"Album by {creator or 'an unknown artist'} with {len(members)} track(s) in this catalog.",
            related={"artist": (artist_id,), "tracks": tuple(t.id for t in members)} if artist_id else {"tracks": tuple(t.id for t in members)},
        )))
    artists = [(0, Entity(
        id=artist_id, type="artist", title=members[0].creator, genres=mix(members),
        popularity=max(t.popularity for t in members),
        description=f"Artist with {len(members)} track(s) in this catalog.",
        related={"tracks": tuple(t.id for t in members), "albums": tuple(artist_albums[artist_id])},
    )) for artist_id, members in artist_tracks.items()]

    playlists = []
    popularity = {t.id: t.popularity for _, t in tracks}
    for playlist_id, group in frame.groupby("playlist_id", sort=False):
        head = group.iloc[0]
        members = tuple(dict.fromkeys(group["track_id"]))
        playlists.append((0, Entity(
            id=playlist_id, type="playlist", title=head["playlist_name"],
            genres={head["playlist_genre"]: 1.0, head["playlist_subgenre"]: 0.5},
            popularity=round(sum(popularity[t] for t in members) / len(members), 4),
            description=f"{head['playlist_subgenre'].capitalize()} playlist ({head['playlist_genre']}) with {len(members)} tracks.",
            related={"tracks": members},
        )))
    return unique_catalog(tracks + artists + albums + playlists, path, f"spotify:{path}")
