"""drumgen studio: a local web page to drum a song, hear it, shape it and take it away.

``drumgen serve`` starts it (:mod:`drumgen.studio.server`). The page (``static/``: plain HTML, CSS
and JavaScript, nothing fetched from the internet) talks to a JSON API (:mod:`drumgen.studio.app`);
every action is a call of the library functions the CLI uses (:mod:`drumgen.pipeline`,
:mod:`drumgen.takes`), made by :class:`drumgen.studio.service.Studio` with the models loaded once.

- :mod:`~drumgen.studio.runs` - one folder per upload under the work folder, random ids, cleanup.
- :mod:`~drumgen.studio.jobs` - one model job at a time; a bounded queue, beyond it "busy".
- :mod:`~drumgen.studio.views` - what the page draws (SSMs, sections, piano roll) as JSON.
"""
