"""Public H5 pages for residents."""

from flask import Blueprint

bp = Blueprint("public", __name__)
