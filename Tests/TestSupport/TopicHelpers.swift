public import Topics

/// A topic name that must be valid.
public func name(_ text: String) -> TopicName {
    TopicName(text)!
}

/// A text publication.
public func text(_ value: String, event: String? = nil) -> Publication {
    Publication(.text(value), event: event)
}
