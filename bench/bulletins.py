"""Earthquake bulletins written from one template in four languages: how well the events of
different cities and days stay apart. Uses the shipped pipeline (USE, pair scorer).

80 quakes in 32 cities of 8 countries over 40 days, each told in three of English, French,
German and Spanish (the magnitude, depth, city, country and weekday filled in), half of them
without a title, published on the day or the day after. Run once as generated and once with
the titles and dates removed.

    python bench/bulletins.py [--out bench/results/bulletins.md]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import tempfile
from pathlib import Path

from storyline import Pipeline
from storyline.evaluate.metrics import bcubed

COUNTRIES = {  # names in en, fr, de, es; four cities each
    "JP": (("Japan", "Japon", "Japan", "Japón"), ["Sendai", "Fukushima", "Miyako", "Kushiro"]),
    "CL": (("Chile", "Chili", "Chile", "Chile"), ["Valparaíso", "Antofagasta", "Iquique", "Coquimbo"]),
    "ID": (("Indonesia", "Indonésie", "Indonesien", "Indonesia"), ["Padang", "Bengkulu", "Ambon", "Palu"]),
    "TR": (("Turkey", "Turquie", "Türkei", "Turquía"), ["Malatya", "Elazığ", "Van", "Düzce"]),
    "MX": (("Mexico", "Mexique", "Mexiko", "México"), ["Acapulco", "Oaxaca", "Pinotepa", "Colima"]),
    "PE": (("Peru", "Pérou", "Peru", "Perú"), ["Arequipa", "Ica", "Tacna", "Piura"]),
    "IT": (("Italy", "Italie", "Italien", "Italia"), ["Norcia", "Amatrice", "Potenza", "Cosenza"]),
    "GR": (("Greece", "Grèce", "Griechenland", "Grecia"), ["Patras", "Heraklion", "Kalamata", "Zakynthos"]),
}
LANGS = ["en", "fr", "de", "es"]
WEEKDAYS = {
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "fr": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    "de": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
    "es": ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
}
TEMPLATES = {  # (title, text)
    "en": ("Magnitude {m} quake shakes {city}",
           "A magnitude {m} earthquake struck near {city}, {country}, on {wd}, the national "
           "seismological agency said. The quake hit at a depth of {d} kilometres. There were no "
           "immediate reports of damage or casualties."),
    "fr": ("Séisme de magnitude {m} près de {city}",
           "Un séisme de magnitude {m} a frappé {wd} près de {city} ({country}), selon l'agence "
           "sismologique nationale. La secousse s'est produite à {d} kilomètres de profondeur. "
           "Aucun dégât ni victime n'a été signalé dans l'immédiat."),
    "de": ("Erdbeben der Stärke {m} bei {city}",
           "Ein Erdbeben der Stärke {m} hat am {wd} die Region um {city} ({country}) erschüttert, "
           "teilte die nationale Erdbebenwarte mit. Das Beben ereignete sich in {d} Kilometern "
           "Tiefe. Berichte über Schäden oder Opfer lagen zunächst nicht vor."),
    "es": ("Sismo de magnitud {m} cerca de {city}",
           "Un sismo de magnitud {m} sacudió el {wd} las inmediaciones de {city} ({country}), "
           "informó la agencia sismológica nacional. El temblor se produjo a {d} kilómetros de "
           "profundidad. No hubo reportes inmediatos de daños ni víctimas."),
}


def bulletins(n: int = 80, seed: int = 7) -> tuple[list[dict], dict[str, str]]:
    rng = random.Random(seed)
    rows, gold = [], {}
    start = dt.date(2025, 3, 1)
    for q in range(n):
        cc = rng.choice(list(COUNTRIES))
        names, cities = COUNTRIES[cc]
        city = rng.choice(cities)
        mag, depth = round(rng.uniform(4.5, 6.8), 1), rng.choice([10, 12, 15, 20, 33, 35, 48, 60, 75])
        day = start + dt.timedelta(days=rng.randrange(40))
        for lang in rng.sample(LANGS, 3):
            m = f"{mag:.1f}" if lang == "en" else f"{mag:.1f}".replace(".", ",")
            fill = {"m": m, "city": city, "country": names[LANGS.index(lang)],
                    "wd": WEEKDAYS[lang][day.weekday()], "d": depth}
            title, text = (t.format(**fill) for t in TEMPLATES[lang])
            published = day + dt.timedelta(days=rng.choice([0, 0, 0, 1]))
            aid = f"q{q:02d}-{lang}"
            row = {"id": aid, "text": text, "lang": lang, "published": published.isoformat(), "source": f"wire-{lang}"}
            if rng.random() < 0.5:
                row["title"] = title
            rows.append(row)
            gold[aid] = f"q{q:02d}"
    rng.shuffle(rows)
    return rows, gold


def run(rows: list[dict], gold: dict[str, str]) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "b.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        report = Pipeline(str(Path(tmp) / "b.db"), offload=False).run([str(path)])
    pred = {a.article_id: a.event for a in report.assignments}
    b = bcubed(pred, gold)
    return f"B³ F1 {b.f1:.3f} (P {b.precision:.3f} / R {b.recall:.3f}), {len(set(pred.values()))} events"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "bulletins.md"))
    args = ap.parse_args()
    rows, gold = bulletins()
    bare = [{k: v for k, v in r.items() if k not in ("title", "published")} for r in rows]
    text = (
        f"# One-template quake bulletins ({len(rows)} articles, {len(set(gold.values()))} quakes, "
        "en/fr/de/es)\n\n"
        f"- as generated (dated, half titled): {run(rows, gold)}\n"
        f"- titles and dates removed: {run(bare, gold)}\n"
    )
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
