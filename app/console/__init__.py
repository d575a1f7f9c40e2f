"""The staff web console."""

from flask import Blueprint

bp = Blueprint("console", __name__)
