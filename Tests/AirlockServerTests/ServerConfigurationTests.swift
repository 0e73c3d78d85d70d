import AirlockCore
import AirlockServer
import AirlockStore
import Configuration
import Testing

@Suite struct ServerConfigurationTests {
    static func reader(_ values: [String: ConfigValue]) -> ConfigReader {
        ConfigReader(provider: InMemoryProvider(values: Dictionary(uniqueKeysWithValues: values.map {
            (AbsoluteConfigKey($0.key.split(separator: ".").map(String.init)), $0.value)
        })))
    }

    @Test func defaults() throws {
        let configuration = try ServerConfiguration(config: Self.reader([:]))
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8470)
        #expect(configuration.store.location == .sqlite(path: "airlock.db"))
        #expect(configuration.notice.noticePeriodDays == 90)
        #expect(configuration.notice.grantGraceDays == 14)
        #expect(configuration.sessionLifetime == 12 * 3600)
        #expect(configuration.browserSessionRule == BrowserSessionRule(idle: 1800, absolute: 12 * 3600))
        #expect(!configuration.secureCookies)
    }

    @Test func readsEveryKey() throws {
        let configuration = try ServerConfiguration(config: Self.reader([
            "http.host": "0.0.0.0", "http.port": "9000", "database.url": "postgres://a:b@db.internal:5432/airlock",
            "program.notice_period_days": 60, "program.grant_grace_days": "7", "sessions.lifetime_hours": 2,
            "credentials.key": .init(.string("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="), isSecret: true),
            "sharing.namespace": "https://airlock.bank.example", "sessions.idle_minutes": 5, "http.secure_cookies": true,
        ]))
        #expect(configuration.browserSessionRule == BrowserSessionRule(idle: 300, absolute: 7200))
        #expect(configuration.secureCookies)
        #expect(configuration.sharingNamespace == "https://airlock.bank.example")
        #expect(configuration.advisoryBaseURL == "https://airlock.bank.example/advisories")
        #expect(configuration.host == "0.0.0.0" && configuration.port == 9000)
        #expect(configuration.store.location == .postgres(url: "postgres://a:b@db.internal:5432/airlock"))
        #expect("\(configuration.store.location)".contains("REDACTED"))
        #expect(configuration.notice.noticePeriodDays == 60 && configuration.notice.grantGraceDays == 7)
        #expect(configuration.sessionLifetime == 7200)
        #expect(configuration.store.credentialsKey != nil)
    }

    /// A value that is there but unusable names its key; it never falls back to the default.
    @Test(arguments: [
        ("http.port", ConfigValue("eighty")), ("http.port", ConfigValue(70000)), ("program.notice_period_days", ConfigValue(-1)),
        ("sessions.lifetime_hours", ConfigValue(0)), ("sessions.idle_minutes", ConfigValue(0)), ("credentials.key", ConfigValue("short")),
        ("database.url", ConfigValue("mysql://db/airlock")), ("sharing.namespace", ConfigValue("not a url")),
    ])
    func badValuesNameTheirKey(key: String, value: ConfigValue) throws {
        let error = #expect(throws: ConfigurationError.self) { try ServerConfiguration(config: Self.reader([key: value])) }
        #expect(error?.key == key)
    }
}
