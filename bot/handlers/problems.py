"""How a refused text is explained: each problem in one sentence, counts worded for the count."""

from __future__ import annotations

from bot.i18n import N_, Html, Texts
from bot.services.letter_rules import LetterProblem, Problem

_PROBLEMS = {
    LetterProblem.EMPTY: N_("There is no text in it."),
    LetterProblem.LINK: N_("It contains a link: “{fragment}”. Links are not allowed."),
    LetterProblem.MENTION: N_(
        "It contains a Telegram username: “{fragment}”. Usernames are not allowed."
    ),
    LetterProblem.EMAIL: N_(
        "It contains an e-mail address: “{fragment}”. Contact details are not allowed."
    ),
    LetterProblem.PHONE: N_(
        "It contains what looks like a phone number: “{fragment}”. Contact details are not "
        "allowed."
    ),
    LetterProblem.PEN_NAME_MULTILINE: N_("A pen name must fit on one line."),
    LetterProblem.PEN_NAME_INVISIBLE: N_(
        "It has no letter that can be read: a pen name needs at least one letter or digit."
    ),
    LetterProblem.PEN_NAME_IMPERSONATES: N_(
        "It names a role or an organization: “{fragment}”. Readers could take the letter for "
        "an official one, so please choose a personal pen name."
    ),
    LetterProblem.MESSENGER: N_(
        "It names a messenger account: “{fragment}”. Contact details are not allowed."
    ),
    LetterProblem.NOT_KOREAN: N_("A translation for the soldiers must be written in Korean."),
    LetterProblem.UNPRINTABLE: N_(
        "It contains characters the printer's fonts cannot draw, so they would print as empty "
        "boxes: {fragment}. Please leave them out or use other characters."
    ),
}


def problem_report(
    texts: Texts, header: Html, problems: tuple[Problem, ...], footer: Html
) -> Html:
    lines = [header]
    for problem in problems:
        reason = _counted_problem(texts, problem) or texts(
            _PROBLEMS[problem.code], fragment=problem.fragment or ""
        )
        lines.append(Html(f"• {reason}"))
    return Html("\n".join([*lines, footer]))


def _counted_problem(texts: Texts, problem: Problem) -> Html | None:
    """A problem with a count, worded for that count ("1 character", "2 characters")."""
    count, limit = problem.actual or 0, texts.number(problem.limit or 0)
    code = problem.code
    if code is LetterProblem.TOO_SHORT:
        return texts.ngettext(
            "It has {count} character; the minimum is {limit}.",
            "It has {count} characters; the minimum is {limit}.",
            count,
            limit=limit,
        )
    if code is LetterProblem.TOO_LONG:
        return texts.ngettext(
            "It has {count} character; the maximum is {limit}.",
            "It has {count} characters; the maximum is {limit}.",
            count,
            limit=limit,
        )
    if code is LetterProblem.TOO_MANY_WORDS:
        return texts.ngettext(
            "It has {count} word; the maximum is {limit}.",
            "It has {count} words; the maximum is {limit}.",
            count,
            limit=limit,
        )
    if code is LetterProblem.TOO_MANY_LINES:
        return texts.ngettext(
            "It has {count} line; the maximum is {limit}.",
            "It has {count} lines; the maximum is {limit}.",
            count,
            limit=limit,
        )
    if code is LetterProblem.PEN_NAME_TOO_SHORT:
        return texts.ngettext(
            "It has {count} character; a pen name needs at least {limit}.",
            "It has {count} characters; a pen name needs at least {limit}.",
            count,
            limit=limit,
        )
    if code is LetterProblem.PEN_NAME_TOO_LONG:
        return texts.ngettext(
            "It has {count} character; a pen name can have at most {limit}.",
            "It has {count} characters; a pen name can have at most {limit}.",
            count,
            limit=limit,
        )
    return None
