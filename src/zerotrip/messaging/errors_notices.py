"""Problems (RFC 9457) of staff notices, report-back and the directory, each documented in
docs/problems.md."""

from __future__ import annotations

from zerotrip.problems import Conflict, NotAllowed, NotFound, ValidationFailed


class NoticeNotFound(NotFound):
    """No notice has this number, or it is not addressed to the caller and not theirs to follow (the
    answer is the same, so a number tells a stranger nothing)."""

    slug = "messaging/notice-not-found"
    title = "No such notice"


class NotNoticePublisher(NotAllowed):
    slug = "messaging/not-notice-publisher"
    title = "Publishing notices takes the notice publisher role over the publishing unit"


class TargetOutsideSubtree(NotAllowed):
    """A publisher reaches only the staff of the units under the one they publish for."""

    slug = "messaging/target-outside-subtree"
    title = "A target lies outside the units you publish for"


class InvalidNotice(ValidationFailed):
    slug = "messaging/invalid-notice"
    title = "The notice is not valid"


class NoticeStateConflict(Conflict):
    """The notice is not in the state this needs: only a draft is published or takes attachments, only a
    notice waiting for approval is approved or refused, only a published notice is withdrawn or read."""

    slug = "messaging/notice-state-conflict"
    title = "The notice is not in a state that allows this"


class ApprovalNotAllowed(NotAllowed):
    """Approving (or refusing) a province-wide emergency notice takes the notice publisher or platform
    administrator role over the publishing unit, and someone other than its publisher."""

    slug = "messaging/approval-not-allowed"
    title = "You may not approve this notice"


class AckNotRequired(Conflict):
    slug = "messaging/ack-not-required"
    title = "This notice does not ask for an acknowledgement"


class FollowNotAllowed(NotAllowed):
    """Roll-ups, the list of those who have not read and report sums are for the notice's publisher, those
    who publish over its unit, and notice publishers of a unit the notice reached (for their own units)."""

    slug = "messaging/follow-not-allowed"
    title = "You may not follow this notice for this unit"


class AttachmentNotFound(NotFound):
    slug = "messaging/attachment-not-found"
    title = "No such attachment"


class InvalidAttachment(ValidationFailed):
    """Empty, larger than ``notices.attachment_max_bytes``, one too many, or not a PDF, PNG, JPEG, Word
    (.docx) or Excel (.xlsx) file judged by its content."""

    slug = "messaging/invalid-attachment"
    title = "The attachment cannot be accepted"


class NoReportForm(Conflict):
    slug = "messaging/no-report-form"
    title = "This notice asks for no report-back"


class InvalidReport(ValidationFailed):
    """Every field of the form needs a whole number from 0 up, and nothing else may be sent."""

    slug = "messaging/invalid-report"
    title = "The report-back answer is not valid"


class ReportNotAllowed(NotAllowed):
    """A unit's answer is given by a staff member of that unit whom the notice reached."""

    slug = "messaging/report-not-allowed"
    title = "You may not answer for this unit"


class DirectoryNotAllowed(NotAllowed):
    """The staff directory is for staff, and each sees only the units under those they work in."""

    slug = "messaging/directory-not-allowed"
    title = "This part of the directory is not open to you"


class StaffOnly(NotAllowed):
    slug = "messaging/staff-only"
    title = "Staff notices are for signed-in staff"
