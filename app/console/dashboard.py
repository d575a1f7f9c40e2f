"""The console's front page: who you are, what you look after."""

from __future__ import annotations

from flask import render_template

from app.console.access import count_visible, me
from app.console_opinions.counts import pending_counts
from app.deputies.models import Deputy
from app.stations.models import Station
from app.units.models import HandlingUnit


def index():
    user = me()
    counts = {
        "stations": count_visible(Station),
        "deputies": count_visible(Deputy),
        "units": count_visible(HandlingUnit),
    }
    return render_template("console/dashboard.html", user=user, counts=counts, waiting=pending_counts(user))
