// Token formats of secret providers, each a class of its own so a mask says what it hid. The
// provider list matches the default rules of gitleaks (MIT) and secretlint's recommended preset
// (MIT); the patterns are our own, written from the providers' published token formats and
// tested on the corpus in test/fixtures/secrets-corpus.json. Every pattern starts with a literal
// prefix (the `hint`), so a string without it costs one `includes` per provider.

export interface ProviderRule {
  readonly name: string;
  /** Literal(s) one of which every match contains; the rule is skipped when none occurs. */
  readonly hints: readonly string[];
  readonly source: string;
  /** Without hints: the rule runs only on strings at least this long. */
  readonly minLength?: number;
}

const B = '(?<![A-Za-z0-9_-])';
const E = '(?![A-Za-z0-9_-])';

// prettier-ignore
export const PROVIDER_RULES: readonly ProviderRule[] = [
  { name: 'google_api_key', hints: ['AIza'], source: `${B}AIza[0-9A-Za-z_-]{35}${E}` },
  { name: 'google_oauth_secret', hints: ['GOCSPX-'], source: `${B}GOCSPX-[0-9A-Za-z_-]{28}${E}` },
  { name: 'gitlab_token', hints: ['gl'], source: `${B}(?:gl(?:pat|ptt|dt|rt|soat|cbt|imt|oas|ft|ffct|wt|agent)-[0-9A-Za-z_-]{20,}|GR1348941[0-9A-Za-z_-]{20,})` },
  { name: 'npm_token', hints: ['npm_'], source: `${B}npm_[A-Za-z0-9]{36}${E}` },
  { name: 'pypi_token', hints: ['pypi-'], source: `${B}pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,}` },
  { name: 'twilio_key', hints: ['SK', 'AC'], source: `${B}(?:SK[0-9a-fA-F]{32}|(?:SK|AC)[0-9a-z]{32})${E}` },
  { name: 'sendgrid_key', hints: ['SG.'], source: `${B}SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}${E}` },
  { name: 'mailgun_key', hints: ['key-', 'pubkey-'], source: `${B}(?:pub)?key-[0-9a-f]{32}${E}` },
  { name: 'shopify_token', hints: ['shp'], source: `${B}shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}${E}` },
  { name: 'square_token', hints: ['sq0', 'EAAA'], source: `${B}(?:sq0(?:atp|csp|idp)-[0-9A-Za-z_-]{22,43}|EAAA[0-9A-Za-z_-]{60})${E}` },
  { name: 'heroku_key', hints: ['HRKU-'], source: `${B}HRKU-[0-9A-Za-z_-]{60}${E}` },
  { name: 'digitalocean_token', hints: ['_v1_'], source: `${B}do[opr]_v1_[a-f0-9]{64}${E}` },
  { name: 'huggingface_token', hints: ['hf_', 'api_org_'], source: `${B}(?:hf_[A-Za-z]{34}|api_org_[A-Za-z]{34})${E}` },
  { name: 'anthropic_key', hints: ['sk-ant-'], source: `${B}sk-ant-(?:api|admin|sid)[0-9]{2}-[A-Za-z0-9_-]{20,}` },
  { name: 'azure_secret', hints: ['Q~'], source: `${B}[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}${E}` },
  { name: 'databricks_token', hints: ['dapi'], source: `${B}dapi[a-f0-9]{32}(?:-[0-9])?${E}` },
  { name: 'discord_token', hints: [], minLength: 59, source: `${B}[MNO][A-Za-z0-9_-]{23,25}\\.[A-Za-z0-9_-]{6}\\.[A-Za-z0-9_-]{27,38}${E}` },
  { name: 'discord_webhook', hints: ['/api/webhooks/'], source: `(?<=discord(?:app)?\\.com/api/webhooks/)[0-9]{5,30}/[A-Za-z0-9_-]{30,}` },
  { name: 'telegram_token', hints: [':AA'], source: `(?<![A-Za-z0-9_:-])(?:bot)?[0-9]{5,16}:AA[A-Za-z0-9_-]{33}${E}` },
  { name: 'atlassian_token', hints: ['ATATT3', 'ATCTT3', 'ATOA'], source: `${B}(?:ATATT3|ATCTT3|ATOA)[A-Za-z0-9_=-]{40,}` },
  { name: 'linear_key', hints: ['lin_'], source: `${B}lin_(?:api|oauth)_[A-Za-z0-9]{40,64}${E}` },
  { name: 'notion_token', hints: ['secret_', 'ntn_'], source: `${B}(?:secret_[A-Za-z0-9]{43}|ntn_[0-9]{11}[A-Za-z0-9]{35})${E}` },
  { name: 'doppler_token', hints: ['dp.'], source: `${B}dp\\.(?:pt|st|ct|sa|scim|audit)\\.[A-Za-z0-9]{40,44}${E}` },
  { name: 'vault_token', hints: ['hvs.', 'hvb.', 'hvr.', 's.'], source: `(?:hv[sbr]\\.[A-Za-z0-9_-]{24,}|(?<![A-Za-z0-9_.-])s\\.[A-Za-z0-9]{24,}${E})` },
  { name: 'sentry_token', hints: ['sntry', 'sentry'], source: `${B}(?:sntry[su]_[A-Za-z0-9+/=_-]{40,}|(?<=https?://)[0-9a-f]{32}(?=@[A-Za-z0-9.-]*sentry))` },
  { name: 'grafana_token', hints: ['glc_', 'glsa_', 'eyJrIjoi'], source: `${B}(?:glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|eyJrIjoi[A-Za-z0-9]{60,400}={0,2})` },
  { name: 'newrelic_key', hints: ['NR', 'NRAL'], source: `${B}(?:NR(?:AK|II|AA|JS)-[A-Za-z0-9]{19,32}|[a-f0-9]{36}NRAL)${E}` },
  { name: 'datadog_key', hints: ['ddap', 'ddog'], source: `${B}(?:ddapi|ddapp|ddogwsb)_[A-Za-z0-9]{32,64}${E}` },
  { name: 'age_key', hints: ['AGE-SECRET-KEY-1'], source: `AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}` },
  { name: 'alibaba_key', hints: ['LTAI'], source: `${B}LTAI[A-Za-z0-9]{20}${E}` },
  { name: 'postman_key', hints: ['PMAK-'], source: `${B}PMAK-[a-f0-9]{24}-[a-f0-9]{34}${E}` },
  { name: 'pulumi_token', hints: ['pul-'], source: `${B}pul-[a-f0-9]{40}${E}` },
  { name: 'rubygems_key', hints: ['rubygems_'], source: `${B}rubygems_[a-f0-9]{48}${E}` },
  { name: 'planetscale_token', hints: ['pscale_'], source: `${B}pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_=.-]{32,64}${E}` },
  { name: 'dynatrace_token', hints: ['dt0c01.'], source: `${B}dt0c01\\.[A-Z0-9]{24}\\.[A-Z0-9]{64}${E}` },
  { name: 'shippo_token', hints: ['shippo_'], source: `${B}shippo_(?:live|test)_[a-f0-9]{40}${E}` },
  { name: 'sourcegraph_token', hints: ['sgp_'], source: `${B}sgp_(?:[a-f0-9]{16}|local)_[a-f0-9]{40}${E}` },
  { name: 'sonarqube_token', hints: ['sqp_', 'squ_', 'sqa_'], source: `${B}sq[pua]_[a-f0-9]{40}${E}` },
  { name: 'airtable_token', hints: ['pat'], source: `${B}pat[A-Za-z0-9]{14}\\.[a-f0-9]{64}${E}` },
  { name: 'flyio_token', hints: ['fo1_', 'FlyV1 '], source: `${B}(?:fo1_[A-Za-z0-9_-]{43}|(?<=FlyV1 )fm[12][ar]?_[A-Za-z0-9+/=_-]{100,})` },
  { name: 'onepassword_token', hints: ['ops_eyJ'], source: `${B}ops_eyJ[A-Za-z0-9+/=_-]{250,}` },
  { name: 'artifactory_key', hints: ['AKCp'], source: `${B}AKCp[A-Za-z0-9]{69}${E}` },
  { name: 'perplexity_key', hints: ['pplx-'], source: `${B}pplx-[A-Za-z0-9]{48}${E}` },
  { name: 'groq_key', hints: ['gsk_'], source: `${B}gsk_[A-Za-z0-9]{52}${E}` },
  { name: 'xai_key', hints: ['xai-'], source: `${B}xai-[A-Za-z0-9]{80}${E}` },
  { name: 'replicate_token', hints: ['r8_'], source: `${B}r8_[A-Za-z0-9]{37}${E}` },
  { name: 'mapbox_token', hints: ['sk.eyJ'], source: `${B}sk\\.eyJ[A-Za-z0-9_-]{20,}\\.[A-Za-z0-9_-]{20,}` },
  { name: 'clojars_token', hints: ['CLOJARS_'], source: `${B}CLOJARS_[a-z0-9]{60}${E}` },
  { name: 'prefect_token', hints: ['pnu_'], source: `${B}pnu_[A-Za-z0-9]{36}${E}` },
  { name: 'teams_webhook', hints: ['webhook.office.com'], source: `(?<=\\.webhook\\.office\\.com/webhookb2/)[A-Za-z0-9@/_-]{40,}` },
  { name: 'openshift_token', hints: ['sha256~'], source: `${B}sha256~[A-Za-z0-9_-]{43}${E}` },
  { name: 'easypost_key', hints: ['EZAK', 'EZTK'], source: `${B}EZ[AT]K[A-Za-z0-9]{54}${E}` },
  { name: 'facebook_token', hints: ['EAA'], source: `${B}EAA[MC][A-Za-z0-9]{100,}${E}` },
  { name: 'typeform_token', hints: ['tfp_'], source: `${B}tfp_[A-Za-z0-9_.=-]{59}${E}` },
  { name: 'readme_key', hints: ['rdme_'], source: `${B}rdme_[a-z0-9]{70}${E}` },
  { name: 'duffel_token', hints: ['duffel_'], source: `${B}duffel_(?:test|live)_[A-Za-z0-9_=-]{43}${E}` },
  { name: 'frameio_token', hints: ['fio-u-'], source: `${B}fio-u-[A-Za-z0-9_=-]{64}${E}` },
  { name: 'infracost_key', hints: ['ico-'], source: `${B}ico-[A-Za-z0-9]{32}${E}` },
  { name: 'scalingo_token', hints: ['tk-us-'], source: `${B}tk-us-[A-Za-z0-9_-]{48}${E}` },
  { name: 'flutterwave_key', hints: ['FLWSECK', 'FLWPUBK'], source: `${B}FLW(?:SECK|PUBK)_TEST-[a-h0-9]{32}-X${E}` },
  { name: 'contentful_token', hints: ['CFPAT-'], source: `${B}CFPAT-[A-Za-z0-9_-]{43}${E}` },
  { name: 'cloudflare_key', hints: ['v1.0-'], source: `${B}v1\\.0-[a-f0-9]{24}-[a-f0-9]{146}${E}` },
  { name: 'harness_token', hints: ['pat.', 'sat.'], source: `${B}(?:pat|sat)\\.[A-Za-z0-9_-]{22}\\.[0-9a-f]{24}\\.[A-Za-z0-9]{20}${E}` },
  { name: 'maxmind_key', hints: ['_mmk'], source: `${B}[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk${E}` },
  { name: 'dropbox_token', hints: ['sl.'], source: `${B}sl\\.[A-Za-z0-9_=-]{130,160}${E}` },
  { name: 'azure_storage_key', hints: ['AccountKey=', 'SharedAccessKey=', '=='], source: `(?:(?<=(?:AccountKey|SharedAccessKey)=["\\x27]?)[A-Za-z0-9+/]{20,}={0,2}|(?:(?<![A-Za-z0-9+/_-])|(?<=://))[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=]))` },
  { name: 'mailchimp_key', hints: ['-us'], source: `${B}[0-9a-f]{32}-us[0-9]{1,2}${E}` },
];

/** The class names the provider rules add, in the order they run. */
export const PROVIDER_CLASS_NAMES = PROVIDER_RULES.map((r) => r.name);
