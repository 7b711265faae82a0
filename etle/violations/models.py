from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from etle.db import Base


class ViolationType(Base):
    __tablename__ = "violation_types"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_id: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # e.g. "UU 22/2009 Pasal 287 ayat (2)"
    legal_basis: Mapped[str] = mapped_column(String(200))
    # Whole rupiah. The maximum fine is what the violator deposits (titipan denda).
    max_fine_rp: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
