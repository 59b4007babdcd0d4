"""The built-in demo catalog: a deterministic, seeded, fictional music + podcast catalog.

``generate(seed)`` builds ~24,500 entities (tracks, artists, albums, playlists, stations,
podcasts, episodes) and plants the article's hard cases, listed in :data:`HARD_CASES`.
All dates are relative to :data:`REFERENCE_DATE`, never to today.

``python -m ltrr_core.catalog.demo --write`` writes ``data/default_catalog.jsonl.gz``
(byte-deterministic); the ``default`` source loads it, or generates when it is absent.

``generate(seed, size=N)`` scales the generic part (artists, albums, playlists, podcasts) by
``N / DEFAULT_SIZE`` around the same planted hard cases: the ``default:N`` source (about N
entities, within 3%; same N and seed -> identical entities). Large pools are subsampled
before the popularity-weighted draws, so generation stays linear in N.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import math
import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from ltrr_core.catalog import demo_builder, demo_cache, demo_words, hard_cases

from ltrr_core.catalog.demo_builder import (
    CATALOG_START,
    DATA_FILE,
    DEFAULT_SEED,
    LATEST_ESTABLISHED,
    REFERENCE_DATE,
    Builder,
)
from ltrr_core.catalog.demo_words import (
    ACTIVITIES,
    CURATORS,
    FIRST_ENDINGS,
    GENRE_LABEL,
    GENRES,
    MOODS,
    PLAYLIST_SUFFIXES,
    PODCAST_ON_TOPIC,
    PODCAST_OPAQUE_ADJ,
    PODCAST_OPAQUE_NOUN,
    PODCAST_TOPICS,
    SURNAME_ENDINGS,
)
from ltrr_core.catalog.hard_cases import HARD_CASES, HARD_PODCASTS
from ltrr_core.catalog.loaders import load_jsonl
from ltrr_core.catalog.schema import Catalog, CatalogError, Entity
from ltrr_core.base.config import Settings
from ltrr_core.base.snapshot import paused_gc


DEFAULT_SIZE = 24_249  # entities of generate() at scale 1 (the committed default catalog)
SIZE_RANGE = (1_000, 5_000_000)
POOL_SAMPLE = 300  # above scale 1, a playlist's pool is first cut to this many tracks (uniformly)
FIXED_ENTITIES = 330  # hard cases and stations that do not scale (so size N lands near N)


def _generic_music(b: Builder, n_artists: int) -> None:
    album_no = track_no = 0
    for a in range(n_artists):
        info = b.new_artist(f"art_{a:05d}")
        for _ in range(b.pick((1, 1, 2, 2, 3, 4))):
            n = b.pick((1, 1, 2, 3, 4, 5, 6, 8))
            b.album_with_tracks(info, f"alb_{album_no:05d}", [f"trk_{track_no + i:05d}" for i in range(n)])
            album_no += 1
            track_no += n


def _hard_music(b: Builder) -> None:
    """Love-keyword entities, typo-prone and multi-genre artists, same-title tracks."""
    lovelace = b.new_artist("art_lovelace_rivers", "Lovelace Rivers", {"soul": 0.6, "r&b": 0.4}, "en", 0.62)
    b.album_with_tracks(lovelace, "alb_lovelace_rivers_1", ["trk_love_me_slowly", "trk_lovelace_2", "trk_lovelace_3"],
                        album_title="Velvet Hours", titles=["Love Me Slowly", "Quiet Fire", "Sunday Letters"], genres=["soul", "r&b", "soul"])
    arcade = b.new_artist("art_love_arcade", "Love Arcade", {"indie": 0.7, "electronic": 0.3}, "en", 0.35)
    b.album_with_tracks(arcade, "alb_love_arcade_1", ["trk_love_arcade_1", "trk_love_arcade_2", "trk_endless_love"],
                        album_title="Coin-Op Hearts", titles=["Pixel Summer", "High Score", "Endless Love"], genres=["indie", "electronic", "indie"])
    ballad = b.new_artist("art_mara_vale", "Mara Vale", {"love songs": 0.8, "pop": 0.2}, "en", 0.48)
    b.album_with_tracks(ballad, "alb_mara_vale_1", ["trk_paper_hearts", "trk_stay_a_while", "trk_love_in_the_rain"],
                        album_title="Paper Hearts", titles=["Paper Hearts", "Stay a While", "Love in the Rain"], genres=["love songs"] * 3)

    multi = (("art_marisol_okafor", "Marisol Okafor", {"latin": 0.5, "pop": 0.3, "r&b": 0.2}, "es"),
             ("art_dallas_kingsley", "Dallas Kingsley", {"country": 0.6, "rock": 0.25, "pop": 0.15}, "en"),
             ("art_yuki_brandt", "Yuki Brandt", {"electronic": 0.5, "j-pop": 0.3, "ambient": 0.2}, "ja"))
    for artist_id, name, genres, lang in multi:
        info = b.new_artist(artist_id, name, genres, lang, 0.4)
        order = [g for g, w in genres.items() for _ in range(round(w * 10))]
        for half in range(2):
            part = order[half * 5:(half + 1) * 5]
            b.album_with_tracks(info, f"alb_{artist_id[4:]}_{half + 1}", [f"trk_{artist_id[4:]}_{half * 5 + i + 1}" for i in range(5)], genres=part)

    for artist_id, name, _query in HARD_CASES["typo_artists"]:
        info = b.new_artist(artist_id, name, popularity=round(b.rng.uniform(0.2, 0.6), 4))
        b.album_with_tracks(info, f"alb_{artist_id[4:]}_1", [f"trk_{artist_id[4:]}_{i + 1}" for i in range(4)])

    ranked = sorted((a for a in b.artists.values() if a["id"][4:].isdigit()), key=lambda a: -a["popularity"])
    popular, obscure = ranked[:40], ranked[-400:]
    titles: dict[str, list[str]] = defaultdict(list)
    for title, hit, low in HARD_CASES["same_title"]:
        titles[title] += [i for i in (hit, low) if i not in titles[title]]
    for title, ids in titles.items():
        for rank, track_id in enumerate(ids):
            info = b.pick(popular) if rank == 0 else b.pick(obscure)
            pop = round(b.rng.uniform(0.8, 0.95), 4) if rank == 0 else round(b.rng.uniform(0.005, 0.05), 4)
            b.album_with_tracks(info, "alb" + track_id[3:], [track_id], album_title=f"{title} - Single", titles=[title], popularity=[pop])


def _playlist_entity(b: Builder, pl_id: str, title: str, description: str, tracks: list[Entity],
                     genres: dict[str, float], moods: tuple[str, ...], popularity: float | None = None,
                     added: date | None = None) -> Entity:
    added = added or b.date_in(CATALOG_START, LATEST_ESTABLISHED)
    return b.add(Entity(
        id=pl_id, type="playlist", title=title, creator=b.pick(CURATORS), genres=genres, moods=moods,
        date_added=added.isoformat(), popularity=b.long_tail(2.5) if popularity is None else popularity,
        description=description, related={"tracks": tuple(t.id for t in tracks)},
    ))


def _sample_tracks(b: Builder, pool: list[Entity], n: int) -> list[Entity]:
    """Popularity-weighted sample without replacement (Efraimidis-Spirakis keys), from at most
    ``b.pool_cap`` uniformly drawn tracks of ``pool`` when the builder has a cap."""
    if b.pool_cap and len(pool) > b.pool_cap:
        pool = b.rng.sample(pool, b.pool_cap)
    if len(pool) <= n:
        return sorted(pool, key=lambda t: -t.popularity)
    random = b.rng.random
    keys = [random() ** (1.0 / (t.popularity + 0.01)) for t in pool]  # one draw per track, in pool order
    ranked = sorted(range(len(pool)), key=keys.__getitem__, reverse=True)  # stable: ties keep pool order
    return [pool[i] for i in ranked[:n]]


def _playlists_and_stations(b: Builder, n_playlists: int, rounds: int = 1, n_artist_stations: int = 40) -> None:
    """Playlists from genre/mood/decade/activity specs (round r > 1 of the specs titles them
    "Vol. r", for scaled catalogs), then decade, mood and top-artist stations."""
    by_genre: dict[str, list[Entity]] = defaultdict(list)
    by_genre_mood: dict[tuple[str, str], list[Entity]] = defaultdict(list)
    by_genre_decade: dict[tuple[str, int], list[Entity]] = defaultdict(list)
    by_mood: dict[str, list[Entity]] = defaultdict(list)
    for t in b.tracks:
        decade = int(t.release_date[:3]) * 10
        for g in t.genres:
            by_genre[g].append(t)
            by_genre_decade[(g, decade)].append(t)
            for m in t.moods:
                by_genre_mood[(g, m)].append(t)
        for m in t.moods:
            by_mood[m].append(t)

    specs = []
    for (g, m), pool in by_genre_mood.items():
        if len(pool) >= 15:
            specs.append((f"{m.capitalize()} {GENRE_LABEL.get(g, g.title())}", f"The best {m} {GENRE_LABEL.get(g, g)} tracks, hand-picked and updated weekly.", pool, {g: 1.0}, (m,)))
    for (g, d), pool in by_genre_decade.items():
        if len(pool) >= 15:
            specs.append((f"{str(d)[2:]}s {GENRE_LABEL.get(g, g.title())} Classics", f"Defining {GENRE_LABEL.get(g, g)} songs of the {d}s.", pool, {g: 1.0}, ()))
    for activity, phrase in ACTIVITIES:
        for g in GENRES:
            specs.append((f"{activity} {GENRE_LABEL.get(g, g.title())}", f"{GENRE_LABEL.get(g, g).capitalize()} {phrase}.", by_genre[g], {g: 1.0}, ()))
    b.rng.shuffle(specs)
    seen: set[str] = set()
    count = 0
    for round_no, (title, description, pool, genres, moods) in ((r, spec) for r in range(1, rounds + 1) for spec in specs):
        if count >= n_playlists:
            break
        title = title + b.pick(PLAYLIST_SUFFIXES) + (f" Vol. {round_no}" if round_no > 1 else "")
        if title in seen or len(pool) < 10:
            continue
        seen.add(title)
        _playlist_entity(b, f"pl_{count:04d}", title, description, _sample_tracks(b, pool, b.rng.randint(15, 40)), genres, moods)
        count += 1

    st = 0
    for (g, d), pool in sorted(by_genre_decade.items()):
        if len(pool) >= 25 and d >= 1960:
            b.add(Entity(
                id=f"st_{st:04d}", type="station", title=f"{str(d)[2:]}s {GENRE_LABEL.get(g, g.title())} Radio",
                genres={g: 1.0}, release_date=f"{d}-01-01", date_added=b.date_in(CATALOG_START, LATEST_ESTABLISHED).isoformat(),
                popularity=b.long_tail(2.0), description=f"Non-stop {GENRE_LABEL.get(g, g)} from the {d}s, around the clock.",
                related={"tracks": tuple(t.id for t in _sample_tracks(b, pool, 10))},
            ))
            st += 1
    for m in MOODS:
        b.add(Entity(
            id=f"st_{st:04d}", type="station", title=f"{m.capitalize()} Radio", moods=(m,),
            date_added=b.date_in(CATALOG_START, LATEST_ESTABLISHED).isoformat(), popularity=b.long_tail(2.0),
            description=f"An endless stream of {m} music across every genre.",
            related={"tracks": tuple(t.id for t in _sample_tracks(b, by_mood[m], 10))},
        ))
        st += 1
    for info in sorted(b.artists.values(), key=lambda a: -a["popularity"])[:n_artist_stations]:
        b.add(Entity(
            id=f"st_{st:04d}", type="station", title=f"{info['name']} Radio", creator=info["name"], genres=dict(info["genres"]),
            date_added=b.date_in(CATALOG_START, LATEST_ESTABLISHED).isoformat(), popularity=b.long_tail(2.0),
            description=f"Songs by {info['name']} and artists like them.", related={"artist": (info["id"],)},
        ))
        st += 1


def _hard_playlists(b: Builder) -> None:
    love = [t for t in b.tracks if "love songs" in t.genres]
    love_titled = [t for t in b.tracks if "love" in t.title.lower().split()]
    _playlist_entity(b, "pl_love_songs_forever", "Love Songs Forever", "Timeless romantic ballads and slow dances, from the sixties to now.",
                     _sample_tracks(b, love, 40), {"love songs": 1.0}, ("romantic",), popularity=0.71)
    _playlist_entity(b, "pl_love_on_repeat", "Love on Repeat", "Every song with love in the title that we cannot stop playing.",
                     _sample_tracks(b, love_titled, 30), {"pop": 0.6, "love songs": 0.4}, ("romantic", "happy"), popularity=0.44)
    opaque = (
        ("pl_side_b", "Side B", "Deep cuts and forgotten gems pressed on vinyl records in the seventies.", "rock", ("nostalgic",)),
        ("pl_quiet_hours", "Quiet Hours", "Soft piano and ambient textures that help you concentrate while studying.", "classical", ("peaceful",)),
        ("pl_golden_hour", "Golden Hour", "Warm acoustic tunes for cooking dinner with friends.", "folk", ("chill",)),
    )
    for pl_id, title, description, genre, moods in opaque:
        pool = [t for t in b.tracks if genre in t.genres]
        _playlist_entity(b, pl_id, title, description, _sample_tracks(b, pool, 25), {genre: 1.0}, moods, popularity=0.2)


def _podcast(b: Builder, pod_id: str, title: str, description: str, topic: tuple, host: str,
             popularity: float, n_episodes: int, ep_prefix: str) -> None:
    name, _phrase, subjects = topic
    added = b.date_in(CATALOG_START, REFERENCE_DATE - timedelta(days=400))
    b.add(Entity(
        id=pod_id, type="podcast", title=title, creator=host, genres={name: 1.0}, language="en",
        release_date=added.isoformat(), date_added=added.isoformat(), popularity=popularity, description=description,
        related={"episodes": tuple(f"{ep_prefix}_{i + 1:02d}" for i in range(n_episodes))},
    ))
    for i in range(n_episodes):
        subject = subjects[(i + b.rng.randint(0, len(subjects) - 1)) % len(subjects)]
        guest = f"{b.word(2, FIRST_ENDINGS)} {b.word(2, SURNAME_ENDINGS)}"
        day = min(LATEST_ESTABLISHED, added + timedelta(days=14 * (i + 1) + b.rng.randint(0, 6)))
        b.add(Entity(
            id=f"{ep_prefix}_{i + 1:02d}", type="episode", title=f"{subject[0].upper()}{subject[1:]}, with {guest}",
            creator=host, album=title, genres={name: 1.0}, language="en", release_date=day.isoformat(), date_added=day.isoformat(),
            popularity=round(min(1.0, max(0.0005, popularity * b.rng.lognormvariate(-0.3, 0.5))), 4),
            description=f"Episode {i + 1} of {title}: {host} and {guest} discuss {subject}.",
            related={"podcast": (pod_id,)},
        ))


def _podcasts(b: Builder, n_podcasts: int) -> None:
    titles = set()
    for p in range(n_podcasts):
        topic = PODCAST_TOPICS[p % len(PODCAST_TOPICS)]
        while True:
            if b.rng.random() < 0.5:
                title = b.pick(PODCAST_ON_TOPIC).replace("{T}", topic[0].title())
            else:
                title = f"The {b.pick(PODCAST_OPAQUE_ADJ)} {b.pick(PODCAST_OPAQUE_NOUN)}"
            if title not in titles:
                titles.add(title)
                break
            title = f"{title} with {b.word(2, FIRST_ENDINGS)}"
            if title not in titles:
                titles.add(title)
                break
        host = f"{b.word(2, FIRST_ENDINGS)} {b.word(2, SURNAME_ENDINGS)}"
        description = f"A show about {topic[1]}, hosted by {host}."
        _podcast(b, f"pod_{p:04d}", title, description, topic, host, b.long_tail(1.5), b.pick((4, 6, 8, 10, 12)), f"ep_{p:04d}")


def _hard_podcasts(b: Builder) -> None:
    for pod_id, title, description, topic, host, pop in HARD_PODCASTS:
        _podcast(b, pod_id, title, description, topic, host, pop, 4, "ep" + pod_id[3:])


def _fresh_releases(b: Builder) -> None:
    """Added within FRESH_DAYS of REFERENCE_DATE with popularity 0: nobody has played them yet."""
    fresh = [REFERENCE_DATE - timedelta(days=d) for d in (3, 5, 9)]
    star = max((a for a in b.artists.values() if a["id"][4:].isdigit()), key=lambda a: a["popularity"])
    b.album_with_tracks(star, "alb_fresh_existing_artist", ["trk_fresh_existing_artist"], album_title="First Light - Single",
                        titles=["First Light"], release=fresh[0], added=fresh[0], popularity=[0.0])
    debut = b.new_artist("art_fresh_debut", "Nova Quartermaine", {"indie": 0.7, "pop": 0.3}, "en", 0.0)
    b.album_with_tracks(debut, "alb_fresh_debut", ["trk_fresh_debut"], album_title="Static Bloom - Single",
                        titles=["Static Bloom"], genres=["indie"], release=fresh[1], added=fresh[1], popularity=[0.0])
    debut["added"] = fresh[1]
    b.add(Entity(
        id="ep_fresh_long_table", type="episode", title="Rye, revisited, with Hester Quayle", creator="Hester Quayle",
        album="The Long Table", genres={"baking": 1.0}, language="en", release_date=fresh[2].isoformat(),
        date_added=fresh[2].isoformat(), popularity=0.0, description="A brand-new episode of The Long Table on dense rye loaves.",
        related={"podcast": ("pod_the_long_table",)},
    ))
    new_tracks = [b.tracks[-2], b.tracks[-1]]
    _playlist_entity(b, "pl_fresh_finds", "Fresh Finds", "Brand-new releases from the last two weeks.", new_tracks,
                     {"indie": 0.5, "pop": 0.5}, ("uplifting",), popularity=0.0, added=fresh[2])


def generate(seed: int = DEFAULT_SEED, size: int | None = None) -> list[Entity]:
    """The demo catalog for ``seed`` (same seed -> identical entities): the default one, or
    about ``size`` entities with the same hard cases (see the module docstring)."""
    scale = 1.0 if size is None else (size - FIXED_ENTITIES) / (DEFAULT_SIZE - FIXED_ENTITIES)
    b = Builder(seed)
    b.pool_cap = POOL_SAMPLE if scale > 1 else None
    _generic_music(b, n_artists=round(1900 * scale))
    _hard_music(b)
    _playlists_and_stations(b, n_playlists=round(383 * scale), rounds=1 if scale <= 1 else math.ceil(2 * scale),
                            n_artist_stations=max(40, round(40 * scale)))
    _hard_playlists(b)
    _podcasts(b, n_podcasts=round(220 * scale))
    _hard_podcasts(b)
    _fresh_releases(b)
    return [b.artist_entity(info) for info in b.artists.values()] + b.entities


def _compact(entity: Entity) -> dict:
    """Entity JSON without empty/default fields (``Entity.from_json`` restores them)."""
    return {k: v for k, v in entity.to_json().items() if v or k in ("id", "type", "title")}


def to_jsonl_gz(entities: list[Entity]) -> bytes:
    """Byte-deterministic gzip of one compact Entity JSON per line (mtime=0)."""
    lines = "".join(json.dumps(_compact(e), ensure_ascii=False, separators=(",", ":")) + "\n" for e in entities)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(lines.encode("utf-8"))
    return buffer.getvalue()


def parse_size(argument: str) -> int:
    """N of ``default:N`` (``100000``, ``100_000`` or ``100k``/``1m``), within :data:`SIZE_RANGE`."""
    text = argument.strip().lower().replace("_", "").replace(",", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    digits = text[:-1] if factor > 1 else text
    if not digits.isdigit() or not SIZE_RANGE[0] <= int(digits) * factor <= SIZE_RANGE[1]:
        raise CatalogError(f"default:{argument}: N must be a whole number of entities from {SIZE_RANGE[0]:,} to "
                           f"{SIZE_RANGE[1]:,}, e.g. default:100000 or default:1m")
    return int(digits) * factor


def _generator_fingerprint() -> str:
    """A hash of the generator's code: a generated catalog's cache key changes when the code does."""
    digest = hashlib.sha256()
    for module in (demo_builder, demo_words, hard_cases, sys.modules[__name__]):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


def _scaled_key(size: int) -> str:
    return f"default:{size}:seed={DEFAULT_SEED}:generator={_generator_fingerprint()}"


def cache_folder(size: int) -> Path:
    """Where ``default:size``'s columnar copy lives: ``catalog/`` in its cache dir (the content hash
    of a catalog keyed by generator, seed and size needs no entities)."""
    return Settings.from_env().cache_dir / Catalog((), content_key=_scaled_key(size)).content_hash / "catalog"


def load_default(argument: str = "") -> Catalog:
    """``default``: the committed ``data/default_catalog.jsonl.gz`` if present, else generated;
    ``default:N``: generated at about N entities, keyed by generator code, seed and N (no
    content hash of a million entities), and kept in the cache dir (``catalog/`` beside ``bm25/``,
    :mod:`ltrr_core.catalog.demo_cache`): later loads memory-map that columnar copy instead (its
    entities are built when read)."""
    if argument:
        size = parse_size(argument)
        key, directory = _scaled_key(size), cache_folder(size)
        entities = demo_cache.load(directory, size)
        if entities is not None:
            return Catalog(entities, source=f"default:{size}", content_key=key)
        with paused_gc():
            catalog = Catalog(generate(size=size), source=f"default:{size}", content_key=key)
            demo_cache.save(directory, size, catalog.entities)
        return catalog
    if DATA_FILE.exists():
        return load_jsonl(DATA_FILE, source="default")
    return Catalog(generate(), source="default")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {DATA_FILE}")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--size", type=parse_size, default=None, help="about N entities (default: the 24k catalog)")
    args = parser.parse_args(argv)
    if args.write and args.size:
        parser.error("--write writes the default catalog only; default:N is generated on load")
    start = time.perf_counter()
    entities = generate(args.seed, args.size)
    print(f"generated in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    catalog = Catalog(entities, source="default")
    print(json.dumps(catalog.summary()["by_type"]), len(catalog))
    if args.write:
        DATA_FILE.parent.mkdir(parents=True, exist_ok=True)
        DATA_FILE.write_bytes(to_jsonl_gz(entities))
        print(f"wrote {DATA_FILE} ({DATA_FILE.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
