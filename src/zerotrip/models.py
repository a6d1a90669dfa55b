"""Every context's tables in one metadata, for migrations and the models-match-migrations test."""

from __future__ import annotations

from zerotrip.audit import models as audit_models
from zerotrip.booking import models as booking_models
from zerotrip.certificates import models as certificates_models
from zerotrip.datahub import models as datahub_models
from zerotrip.db import Base
from zerotrip.identity import models as identity_models
from zerotrip.messaging import models_notices as messaging_notices_models
from zerotrip.messaging import models_notifications as messaging_notifications_models
from zerotrip.services import bundle_models as services_bundle_models
from zerotrip.services import models as services_models
from zerotrip.services import models_workflow as services_workflow_models

__all__ = [
    "audit_models",
    "booking_models",
    "certificates_models",
    "datahub_models",
    "identity_models",
    "messaging_notices_models",
    "messaging_notifications_models",
    "metadata",
    "services_bundle_models",
    "services_models",
    "services_workflow_models",
]

metadata = Base.metadata
