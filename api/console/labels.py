"""Words officers read on the console: Indonesian first, English in the hover text."""

from __future__ import annotations

FLAGS = {
    "plate_not_registered": ("Plat tidak terdaftar", "plate not in the registry"),
    "registration_expired": ("STNK habis masa berlaku", "registration expired"),
    "class_mismatch": ("Jenis kendaraan tidak cocok dengan nomor", "class does not fit number"),
    "suspected_clone": ("Dugaan plat palsu / kloning", "suspected cloned plate"),
    "read_needs_review": ("Bacaan plat ragu", "reader unsure"),
    "lookalike_candidates": ("Ada plat mirip terdaftar", "look-alike plates registered"),
    "clock_skew": ("Jam kamera menyimpang", "camera clock skewed"),
    "multiple_plates": ("Lebih dari satu plat", "several plates in frame"),
    "no_plate_found": ("Plat tidak ditemukan mesin", "no plate found: mark it"),
    "plate_unreadable": ("Plat tidak terbaca mesin", "plate found but not read: key it"),
    "duplicate_image": ("Foto sama dari kamera lain", "same image sent by another camera"),
}
VEHICLE_CLASSES = {
    "passenger_car": "Mobil penumpang",
    "motorcycle": "Sepeda motor",
    "bus": "Bus",
    "goods": "Mobil barang",
}
REJECT_REASONS = {
    "unreadable": ("Plat tidak terbaca", "unreadable"),
    "no_violation": ("Tidak ada pelanggaran", "no violation"),
    "emergency_vehicle": ("Kendaraan darurat", "emergency vehicle"),
    "duplicate": ("Duplikat", "duplicate"),
    "suspected_cloned_plate": ("Dugaan plat kloning", "suspected cloned plate"),
    "no_vehicle": ("Tidak ada kendaraan", "no vehicle"),
    "plate_not_visible": ("Plat tidak terlihat", "plate not visible"),
    "plate_covered": ("Plat ditutup / dilepas", "plate covered or removed"),
    "other": ("Lainnya (tulis alasan)", "other, with a text"),
}
STATUSES = {
    "captured": "tertangkap",
    "needs_plate": "menunggu pembacaan plat",
    "pending_review": "menunggu tinjauan",
    "pending_second_review": "menunggu konfirmasi kedua",
    "escalated": "dieskalasi",
    "confirmed": "dikonfirmasi",
    "rejected": "ditolak",
    "notice_sent": "surat terkirim",
    "owner_responded": "pemilik menanggapi",
    "payment_issued": "kode bayar terbit",
    "overdue": "lewat batas",
    "registration_blocked": "STNK diblokir",
    "paid": "dibayar",
    "closed": "selesai",
    "void": "dibatalkan",
}
STAGES = {
    "plate": "Plat belum terbaca: tandai dan ketik",
    "first": "Tinjauan pertama",
    "second": "Konfirmasi kedua (plat dikoreksi petugas lain)",
    "escalation": "Eskalasi ke supervisor",
}
