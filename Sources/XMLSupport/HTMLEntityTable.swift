import CLibXML2
import Foundation

/// libxml2 entity records for HTML's named character references, made once per name and kept
/// for the life of the process (there are about 250 names).
final class HTMLEntityTable: @unchecked Sendable {
    static let shared = HTMLEntityTable()
    private let lock = NSLock()
    private var entities: [String: xmlEntityPtr] = [:]

    func entity(named raw: UnsafePointer<xmlChar>) -> xmlEntityPtr? {
        let name = String(cString: raw)
        lock.lock()
        defer { lock.unlock() }
        if let known = entities[name] { return known }
        guard let text = HTMLEntity.decode(name),
              let entity = xmlNewEntity(nil, raw, Int32(XML_INTERNAL_PREDEFINED_ENTITY.rawValue), nil, nil, text) else { return nil }
        entities[name] = entity
        return entity
    }
}
