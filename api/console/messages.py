"""The domain's refusals, in the console's language.

The rules in `etle.cases` speak English (the API, the CLI and the logs share their words). The
console is Indonesian: a refused decision shown in English there (a 409 after "Konfirmasi")
reads like a crash. Each message an officer can meet on the console is matched here and said in
Indonesian with its particulars (plate, case number, speeds); one that is not known yet is still
shown, after an Indonesian sentence saying the decision was not saved. A test walks the
refusals of the review rules so a new one cannot arrive untranslated.
"""

from __future__ import annotations

import re

from api.console.labels import STATUSES

_RULES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"plate (?P<plate>.+) is not registered: correct it to a registered plate or "
            r"reject the case"
        ),
        "Plat {plate} tidak terdaftar: koreksi ke plat yang terdaftar, atau tolak kasus ini.",
    ),
    (
        re.compile(
            r"speeding case (?P<case>\d+) has no measured speed from the camera: "
            r"reject it \(no violation shown\)"
        ),
        "Kasus kecepatan #{case} tidak memiliki kecepatan terukur dari kamera: tolak kasus ini "
        "(pelanggaran tidak terbukti).",
    ),
    (
        re.compile(
            r"camera (?P<camera>\S+) has no speed limit set: a speeding case cannot be "
            r"confirmed until it has one"
        ),
        "Kamera {camera} belum memiliki batas kecepatan: kasus kecepatan tidak dapat "
        "dikonfirmasi sebelum batasnya diisi.",
    ),
    (
        re.compile(
            r"the measured speed (?P<speed>[\d.]+) km/h is not above the limit "
            r"(?P<limit>\d+) km/h: reject the case \(no violation\)"
        ),
        "Kecepatan terukur {speed} km/jam tidak melebihi batas {limit} km/jam: tolak kasus ini "
        "(tidak ada pelanggaran).",
    ),
    (
        re.compile(r"(?P<plate>.+) is already the case's plate: confirm it"),
        "{plate} sudah menjadi plat kasus ini: konfirmasi saja.",
    ),
    (
        re.compile(r"(?P<plate>.+) is not in the vehicle registry"),
        "{plate} tidak ada dalam data registrasi kendaraan.",
    ),
    (re.compile(r"a rejection needs a reason code"), "Penolakan memerlukan alasan."),
    (
        re.compile(r"unknown reason '.*'; one of .*"),
        "Alasan penolakan tidak dikenal: pilih salah satu alasan yang tersedia.",
    ),
    (
        re.compile(r'a rejection for reason "other" needs a text'),
        "Penolakan dengan alasan Lainnya perlu ditulis alasannya.",
    ),
    (
        re.compile(r"the text has at most (?P<limit>\d+) characters"),
        "Teks paling banyak {limit} karakter.",
    ),
    (
        re.compile(r"case (?P<case>\d+) is already with a supervisor"),
        "Kasus #{case} sudah ada di tangan supervisor.",
    ),
    (
        re.compile(r"case (?P<case>\d+) is not leased to you: claim a case first"),
        "Kasus #{case} tidak sedang Anda tinjau: ambil kasus terlebih dahulu.",
    ),
    (
        re.compile(r"your lease on case (?P<case>\d+) has expired: claim again"),
        "Waktu tinjau Anda untuk kasus #{case} sudah habis: ambil kasus lagi.",
    ),
    (
        re.compile(r"case (?P<case>\d+) is not leased to you"),
        "Kasus #{case} tidak sedang Anda tinjau.",
    ),
    (
        re.compile(r"case (?P<case>\d+) is (?P<status>\w+): there is nothing to review"),
        "Kasus #{case} berstatus {status}: tidak ada yang perlu ditinjau.",
    ),
    (
        re.compile(r"case (?P<case>\d+) cannot go from (?P<old>\w+) to (?P<new>\w+)"),
        "Kasus #{case} tidak dapat berpindah dari status {old} ke {new}.",
    ),
    (
        re.compile(r"conflict of interest: the vehicle is registered to this officer"),
        "Konflik kepentingan: kendaraan ini terdaftar atas nama petugas ini.",
    ),
    (
        re.compile(
            r"four eyes: the officer who corrected(?:, keyed)? or escalated this case cannot "
            r"take the next step on it"
        ),
        "Prinsip empat mata: petugas yang mengoreksi, mengetik plat, atau mengeskalasi kasus "
        "ini tidak boleh mengambil langkah berikutnya.",
    ),
    (
        re.compile(r"four eyes: you proposed this case's plate; another officer must decide .+"),
        "Prinsip empat mata: Anda yang mengusulkan plat kasus ini; petugas lain yang harus "
        "memutuskannya.",
    ),
    (
        re.compile(r"case (?P<case>\d+) has no plate yet: mark and key it, or reject the case"),
        "Kasus #{case} belum memiliki plat: tandai dan ketik platnya, atau tolak kasus ini.",
    ),
    (
        re.compile(r"case (?P<case>\d+) already has a plate: confirm or correct it"),
        "Kasus #{case} sudah memiliki plat: konfirmasi atau koreksi.",
    ),
    (
        re.compile(r"case (?P<case>\d+) is (?P<status>\w+): there is no plate to key"),
        "Kasus #{case} berstatus {status}: tidak ada plat yang perlu diketik.",
    ),
    (
        re.compile(r"mark the plate: a box \[x1, y1, x2, y2\] on the evidence frame"),
        "Tandai plat: kotak di foto bukti.",
    ),
    (
        re.compile(r"a box is four numbers: \[x1, y1, x2, y2\]"),
        "Kotak plat terdiri atas empat angka: [x1, y1, x2, y2].",
    ),
    (
        re.compile(r"the box lies outside the (?P<size>\d+x\d+) frame"),
        "Kotak plat berada di luar foto ({size}).",
    ),
    (
        re.compile(r"the box must be at least (?P<side>\d+) pixels wide and high.*"),
        "Kotak plat paling sedikit {side} piksel lebar dan tingginya.",
    ),
    (
        re.compile(r"the (?P<role>\w+) role may not .+"),
        "Peran {role} tidak berwenang melakukan tindakan ini.",
    ),
    (
        re.compile(r"plate .*(region code|digits|letters|too long|may only hold|does not read).*"),
        "Plat yang diketik tidak sesuai format plat Indonesia (huruf wilayah, 1-4 angka, "
        "sampai 3 huruf), contoh B 1234 ABC.",
    ),
    (re.compile(r"plate is empty"), "Plat yang benar belum diketik."),
    (
        re.compile(r"the form has expired or did not come from this console"),
        "Formulir kedaluwarsa atau tidak berasal dari konsol ini; muat ulang halaman.",
    ),
    (re.compile(r"cross-site form posts are refused"), "Formulir dari situs lain ditolak."),
]
_ROLES = {"reviewer": "peninjau", "supervisor": "supervisor", "administrator": "administrator"}


def indonesian(message: str) -> str:
    """The message in Indonesian; one not known yet keeps its English after a plain sentence."""
    for pattern, words in _RULES:
        found = pattern.fullmatch(message)
        if found is not None:
            values = {k: _word(k, v) for k, v in found.groupdict().items()}
            return words.format(**values)
    return f"Keputusan tidak dapat disimpan ({message})."


def known(message: str) -> bool:
    return any(pattern.fullmatch(message) for pattern, _ in _RULES)


def _word(name: str, value: str) -> str:
    if name in ("status", "old", "new"):
        return STATUSES.get(value, value)
    if name == "role":
        return _ROLES.get(value, value)
    if name == "speed":
        return value.replace(".", ",")
    return value
