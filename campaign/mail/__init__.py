"""Campaign e-mail, one home: who gets what, composing it, sending it, and what became of it."""
