import { beforeEach, describe, expect, it, jest } from '@jest/globals'

const setSecret = jest.fn<(secret: string) => void>()
jest.unstable_mockModule('@actions/core', () => ({ setSecret }))

const { classify, isSecretName, learnEnvText, learnSecretsOf, looksLikeSecret, nameWords, readDotenv, redact, redactMasked, registerSecret } = await import(
  '../../src/secrets.js'
)

beforeEach(() => {
  setSecret.mockClear()
})
const masked = (): string[] => setSecret.mock.calls.map(([value]) => value)

/** A random string from an alphabet, as a generator makes passwords and keys. */
const random = (alphabet: string, length: number, seed: number): string => {
  let state = seed
  let out = ''
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) % 2147483648
    out += alphabet[Math.floor((state / 2147483648) * alphabet.length)]
  }
  return out
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

const PEM_LINES = ['-----BEGIN PRIVATE KEY-----', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCdotenv1', 'ZG90ZW52LXBlbS1saW5lLXR3bw==', '-----END PRIVATE KEY-----']
const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1bml0LXRlc3QiLCJpYXQiOjE1MTYyMzkwMjJ9.qH7Vb1cB2nZ9xTt4yUe3mLp0sK8wRfDgJh6aAoE5iNs'

describe('readDotenv: env text as Dokploy (dotenv 16) reads it', () => {
  it('drops an inline comment after an unquoted value, and keeps a # inside quotes', () => {
    expect(readDotenv('API_TOKEN=tok-9f8e7d6c # rotated monthly\nA="x # y" # z\nB=abc#def')).toEqual([
      { key: 'API_TOKEN', value: 'tok-9f8e7d6c' },
      { key: 'A', value: 'x # y' },
      { key: 'B', value: 'abc' }
    ])
  })

  it('accepts `KEY: value`, `export KEY=value` and spaces around =', () => {
    expect(readDotenv('DB_PASS: colon-value\nexport EXPORTED=yes-1\n  SPACED =  padded  \nNOSPACE:x')).toEqual([
      { key: 'DB_PASS', value: 'colon-value' },
      { key: 'EXPORTED', value: 'yes-1' },
      { key: 'SPACED', value: 'padded' }
    ])
  })

  it('expands \\n and \\r in double quotes only; single quotes and backticks keep them', () => {
    expect(readDotenv('D="a\\nb\\rc"\nS=\'a\\nb\'\nT=`a\\nb`')).toEqual([
      { key: 'D', value: 'a\nb\rc' },
      { key: 'S', value: 'a\\nb' },
      { key: 'T', value: 'a\\nb' }
    ])
  })

  it('reads a quoted value over several lines, CRLF or not, and an escaped quote inside it', () => {
    expect(readDotenv(`KEY="${PEM_LINES.join('\r\n')}"\r\nQ='it\\'s'\nNEXT=1`)).toEqual([
      { key: 'KEY', value: PEM_LINES.join('\n') },
      { key: 'Q', value: "it\\'s" },
      { key: 'NEXT', value: '1' }
    ])
  })

  it('reads the corners as dotenv does: escaped quotes kept, junk after a quote, `export` as a key, line breaks as white space', () => {
    expect(readDotenv('A="a\\"b"\nB=\'x\' junk\nexport=1\nexport  C=2\nD:\nnext-line\nE\n=e\nF=\n"quoted below"')).toEqual([
      { key: 'A', value: 'a\\"b' },
      { key: 'B', value: "'x' junk" },
      { key: 'export', value: '1' },
      { key: 'C', value: '2' },
      { key: 'D', value: 'next-line' },
      { key: 'E', value: 'e' },
      { key: 'F', value: 'quoted below' }
    ])
  })

  it('keeps an unclosed quote as a value of its line, and the last of a key twice set', () => {
    expect(readDotenv('A="open\nB=1\nB=2\nnot a line\n# C=3')).toEqual([
      { key: 'A', value: '"open' },
      { key: 'B', value: '2' }
    ])
  })
})

describe('what is a secret', () => {
  it('splits names into words, camelCase and separators alike', () => {
    expect(nameWords('databaseRootPassword')).toEqual(['database', 'root', 'password'])
    expect(nameWords('DB_ROOT_PASSWORD')).toEqual(['db', 'root', 'password'])
    expect(nameWords('githubPrivateKey')).toEqual(['github', 'private', 'key'])
    expect(nameWords('X-API.key')).toEqual(['x', 'api', 'key'])
  })

  it('knows secret-like names, and names of settings about a secret', () => {
    for (const name of ['DB_PASSWORD', 'PGPASSWORD', 'POSTGRES_PASS', 'API_KEY', 'X_APIKEY', 'SECRET_KEY_BASE', 'GITHUB_TOKEN', 'refreshToken', 'AWS_SECRET_ACCESS_KEY', 'SENTRY_DSN', 'BASIC_AUTH', 'GCP_CREDENTIALS', 'githubPrivateKey', 'PASSWORD_SALT', 'SESSION_COOKIE', 'JWT'])
      expect([name, isSecretName(name)]).toEqual([name, true])
    for (const name of ['NODE_ENV', 'LOG_LEVEL', 'PORT', 'HOST', 'APP_URL', 'AUTH_URL', 'TOKEN_TTL', 'SSL_KEY_PATH', 'AUTHOR', 'MONKEY_COUNT', 'KEYBOARD', 'API_KEY_HEADER', 'PASSWORD_MIN_LENGTH', 'DATABASE_URL'])
      expect([name, isSecretName(name)]).toEqual([name, false])
  })

  it('never takes booleans, numbers, log levels or environment names, whatever the name', () => {
    for (const value of ['true', 'FALSE', 'yes', 'off', '3000', '0', '-1.5', '1e6', 'info', 'debug', 'warn', 'production', 'staging', 'dev'])
      expect([value, classify('AUTH_SECRET', value)]).toEqual([value, undefined])
  })

  it('takes long random-looking values under any name, and no plain word, host name or URL', () => {
    for (let seed = 1; seed <= 20; seed++) expect(looksLikeSecret(random(ALNUM, 24, seed))).toBe(true)
    for (const value of [JWT, 'sk_live_51HxYzAbCdEf0123456789', 'ghp_0123456789abcdefghijABCDEFGHIJ0123', 'AKIAIOSFODNN7EXAMPL3', 'd41d8cd98f00b204e9800998ecf8427e'])
      expect([value, looksLikeSecret(value)]).toEqual([value, true])
    for (const value of [
      'production', '0.0.0.0', 'https://shop.example.com', 'shop.example.com', 'my-app-production-service', 'ghcr.io/acme/api:1.0',
      '/etc/dokploy/applications', 'Europe/Amsterdam', 'en_US.UTF-8', '1.2.3-beta.4+build.5', '2026-08-01T09:00:00.000Z',
      '123e4567-e89b-12d3-a456-426614174000', '--max-old-space-size=4096', 'feature/ABC-1234-add-login', 'MyApp2024Production',
      'k8s-prod-eu-west-1-cluster', 'x86_64-unknown-linux-gnu', 'v20.11.1-alpine3.19', 'linux/amd64,linux/arm64'
    ])
      expect([value, looksLikeSecret(value)]).toEqual([value, false])
  })

  it('under a secret-like name: a secret, a plain word only known (not given to the runner), a host or path none', () => {
    expect(classify('DB_PASSWORD', 'pg-Pa55-w0rd')).toBe('secret')
    expect(classify('DB_PASSWORD', 'postgres')).toBe('known')
    expect(classify('SENTRY_DSN', 'https://abc123@o1.ingest.sentry.io/1')).toBe('secret')
    expect(classify('AUTH_DOMAIN', 'auth.example.com')).toBeUndefined()
    expect(classify('OAUTH_ISSUER_ENDPOINT', 'https://auth.example.com/realms/shop')).toBeUndefined()
    expect(classify('AUTH_BACKEND', 'https://auth.example.com')).toBeUndefined()
    expect(classify('WEBHOOK_SECRET_LINK', 'https://hook:abc@h.example.com')).toBe('secret')
    expect(classify('KEY_FILE', '/run/secrets/key')).toBeUndefined()
    expect(classify('API_KEY', 'abc')).toBeUndefined()
    expect(classify('GREETING', 'hello world')).toBeUndefined()
  })
})

describe('learning the secrets of env text', () => {
  it("a user's first day: harmless values are not masked and stay readable", () => {
    learnEnvText('NODE_ENV=production\nLOG_LEVEL=info\nPORT=3000\nHOST=0.0.0.0\nAPP_URL=https://shop.example.com')
    expect(masked()).toEqual([])
    expect(redact('NODE_ENV=production LOG_LEVEL=info PORT=3000 HOST=0.0.0.0 APP_URL=https://shop.example.com')).toBe(
      'NODE_ENV=production LOG_LEVEL=info PORT=3000 HOST=0.0.0.0 APP_URL=https://shop.example.com'
    )
  })

  it('masks the secrets beside them: a password, a connection string’s password, sk_live, a JWT, a PEM, a random value under a bland name', () => {
    const bland = random(ALNUM, 24, 99)
    learnEnvText(
      [
        'NODE_ENV=production',
        'DB_PASSWORD=first-day-db-pass-41',
        'DATABASE_URL=postgres://app:url-pass-7c2e@db:5432/app',
        'STRIPE=sk_live_51FirstDay0123456789ab',
        `SESSION=${JWT}`,
        `TLS="${PEM_LINES.join('\\n')}"`,
        `BUILD_REF=${bland}`
      ].join('\n')
    )
    expect(masked().sort()).toEqual(['first-day-db-pass-41', 'url-pass-7c2e', 'sk_live_51FirstDay0123456789ab', JWT, ...PEM_LINES, bland].sort())
    expect(redact('postgres://app:url-pass-7c2e@db:5432/app')).toBe('postgres://app:***@db:5432/app')
    expect(redact('NODE_ENV=production')).toBe('NODE_ENV=production')
  })

  it('masks the value dotenv gives, not the text as written: an inline comment, a `:` separator', () => {
    learnEnvText('API_TOKEN=tok-5a4b3c2d1e # rotated monthly\nDB_PASS: colon-pass-8d7c')
    expect(masked()).toEqual(['tok-5a4b3c2d1e', 'colon-pass-8d7c'])
  })

  it('masks a password given in percent-encoded form as written and as decoded', () => {
    learnEnvText('REDIS_URL=redis://:p%40ss-w0rd-19@cache:6379/0')
    expect(masked()).toEqual(['p%40ss-w0rd-19', 'p@ss-w0rd-19'])
  })

  it('masks a secret word only in what the step prints, never with the runner', () => {
    learnEnvText('DB_PASSWORD=hunter')
    expect(masked()).toEqual([])
    expect(redact('login with hunter')).toBe('login with ***')
    expect(redactMasked('login with hunter')).toBe('login with hunter')
  })

  it('takes every value of build secrets as secret, whatever its name, but no boolean', () => {
    learnSecretsOf({ buildSecrets: 'SOME_VALUE=bland-but-secret-1\nFLAG=true' })
    expect(masked()).toEqual(['bland-but-secret-1'])
  })
})

describe('learning the secrets of a reply', () => {
  it('walks nested rows: env blocks, secret-named fields, compose files; never ids or names', () => {
    const id = 'yKq3xT9bP2mZ7wLc0RfA1'
    learnSecretsOf({
      applicationId: id,
      name: 'web',
      refreshToken: 'refresh-tok-0192',
      environment: { env: 'SHARED_TOKEN=nested-env-tok-77', project: { env: 'PROJ_SECRET=proj-secret-66' } },
      composeFile: 'services:\n  app:\n    environment:\n      - ADMIN_PASSWORD=compose-pass-55\n      PLAIN: value\n',
      customGitUrl: 'https://ci:git-pass-44@git.example.com/acme/web.git',
      github: { githubPrivateKey: `${PEM_LINES[0]}\nMIIEpAIBAAKCAQEAnested\n${PEM_LINES[3]}` }
    })
    expect(masked()).toEqual(
      expect.arrayContaining(['refresh-tok-0192', 'nested-env-tok-77', 'proj-secret-66', 'compose-pass-55', 'git-pass-44', 'MIIEpAIBAAKCAQEAnested'])
    )
    expect(masked()).not.toContain(id)
    expect(masked()).not.toContain('web')
    expect(masked()).not.toContain('value')
  })

  it('registerSecret masks an input whatever it looks like, line by line; always even a short one', () => {
    registerSecret('line-one-input\nline-two-input\nab')
    registerSecret('xy', true)
    expect(masked()).toEqual(['line-one-input', 'line-two-input', 'xy'])
    expect(redactMasked('{"name":"xy"}')).toBe('{"name":"***"}')
  })
})
