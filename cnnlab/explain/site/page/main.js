// static/site/main.js — the static site's entry module. It installs the in-browser answerer of
// the page's API (backend.js) and then starts the live explainer's page (../app.js) unchanged:
// imports are evaluated in order, so the answerer is in place before app.js asks for the model.

import "./backend.js";
import "../app.js";
