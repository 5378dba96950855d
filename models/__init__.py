"""SQLAlchemy models of reformflow. No business logic beyond what a row must keep."""
from .audit import AuditCheck, AuditEvent, AuditHead
from .base import Base
from .calendar import CalendarOverride
from .comment import Comment
from .delegation import Delegation
from .draft import TaskDraft
from .document import Document
from .identity import Group, SignInFailure, Unit, User, memberships
from .mail import MailDigestRound, MailMessage
from .process import HumanTask, InstanceTask, ProcessDefinition, ProcessInstance, TaskCandidate
from .token import ApiToken

__all__ = ["ApiToken", "AuditCheck", "AuditEvent", "AuditHead", "Base", "CalendarOverride", "Comment", "Delegation", "Document", "Group",
           "HumanTask", "InstanceTask", "MailDigestRound", "MailMessage", "ProcessDefinition", "ProcessInstance", "SignInFailure",
           "TaskCandidate", "TaskDraft",
           "Unit", "User", "memberships"]
