"""A completed assessment questionnaire, the advice given, and the path the party chose."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from odr.auth.models import User
from odr.cases.models import Case
from odr.extensions import db
from odr.timeutil import utcnow


class Assessment(db.Model):
    __tablename__ = "assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    #: Question id → answer, as given.
    answers: Mapped[dict] = mapped_column(sa.JSON)
    #: The advice as shown: paths with scores, availability, fees, weeks; recommended paths; statistics.
    result: Mapped[dict] = mapped_column(sa.JSON)
    #: ``mediation``, ``arbitration`` or ``litigation`` once chosen.
    chosen_path: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    chosen_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship()
    user: Mapped[User] = relationship()

    def __repr__(self):
        return f"<Assessment {self.id} case {self.case_id}>"
