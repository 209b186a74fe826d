//! A small OData `$filter` parser and evaluator for directory collections.
//!
//! Supports eq/ne/gt/ge/lt/le/in, and/or/not, parentheses, startswith/endswith, and
//! `any` lambdas on collection properties (`assignedLicenses/any(x:x/skuId eq …)`,
//! `proxyAddresses/any(x:startswith(x,'smtp:'))`).

use serde_json::Value;

use crate::user::{Field, Kind, PROPS, User};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Str(String),
    Bool(bool),
    Null,
    Num(f64),
    /// Unquoted GUIDs and datetimes, compared like strings.
    Bare(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone)]
pub(crate) enum Operand {
    Prop(usize),
    /// The lambda variable itself (`x`) or one of its members (`x/skuId`).
    Var(Option<String>),
    /// The item count of a collection property (`assignedLicenses/$count`, advanced mode only).
    Count(usize),
    /// A member of a schema extension (`ext…_cippUser/jitAdminEnabled`).
    Member(usize, String),
}

#[derive(Debug, Clone)]
pub(crate) enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp(Operand, Op, Lit),
    In(Operand, Vec<Lit>),
    StartsWith(Operand, String),
    EndsWith(Operand, String),
    Any(usize, Box<Expr>),
}

/// Why a filter was refused; the caller turns it into Graph's error body.
#[derive(Debug, PartialEq)]
pub(crate) enum FilterError {
    Syntax(String),
    UnknownProperty(String),
    Unsupported(String),
}

/// Operators Graph only accepts in advanced-query mode (`ConsistencyLevel: eventual` + `$count`).
#[derive(Debug, Default)]
pub(crate) struct Needs {
    pub advanced: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    Colon,
    Slash,
    Word(String),
    Str(String),
}

fn tokenize(input: &str) -> Result<Vec<Tok>, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            ':' => {
                out.push(Tok::Colon);
                i += 1;
            }
            '/' => {
                out.push(Tok::Slash);
                i += 1;
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(FilterError::Syntax(format!(
                                "There is an unterminated string literal at position {i} in '{input}'."
                            )));
                        }
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
            }
            _ => {
                // Words that start with a digit may hold ':' (datetimes); identifiers may not,
                // because ':' separates a lambda variable from its body.
                let digit_start = c.is_ascii_digit() || c == '-';
                let mut s = String::new();
                while let Some(&ch) = chars.get(i) {
                    let ok = ch.is_ascii_alphanumeric()
                        || matches!(ch, '_' | '.' | '-' | '+' | '$' | '@' | '#')
                        || (digit_start && ch == ':');
                    if !ok {
                        break;
                    }
                    s.push(ch);
                    i += 1;
                }
                if s.is_empty() {
                    return Err(FilterError::Syntax(format!(
                        "Syntax error: character '{c}' is not valid at position {i} in '{input}'."
                    )));
                }
                out.push(Tok::Word(s));
            }
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    input: &'a str,
    var: Option<String>,
    needs: Needs,
}

fn is_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok() && s.len() == 36
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn syntax(&self, what: &str) -> FilterError {
        FilterError::Syntax(format!(
            "Syntax error: {what} at position {} in '{}'.",
            self.pos, self.input
        ))
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<(), FilterError> {
        if self.next() == Some(tok) {
            Ok(())
        } else {
            Err(self.syntax(what))
        }
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.peek_keyword("or") {
            self.pos += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        while self.peek_keyword("and") {
            self.pos += 1;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        if self.peek_keyword("not") {
            self.pos += 1;
            self.needs.advanced.get_or_insert("not");
            let inner = self.unary()?;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, FilterError> {
        match self.next() {
            Some(Tok::LParen) => {
                let e = self.or()?;
                self.expect(Tok::RParen, "')' expected")?;
                Ok(e)
            }
            Some(Tok::Word(w)) => {
                let lower = w.to_ascii_lowercase();
                if (lower == "startswith" || lower == "endswith")
                    && self.peek() == Some(&Tok::LParen)
                {
                    self.pos += 1;
                    let operand = self.operand()?;
                    self.expect(Tok::Comma, "',' expected")?;
                    let Some(Tok::Str(s)) = self.next() else {
                        return Err(self.syntax("string literal expected"));
                    };
                    self.expect(Tok::RParen, "')' expected")?;
                    if lower == "startswith" {
                        return Ok(Expr::StartsWith(operand, s));
                    }
                    self.needs.advanced.get_or_insert("endsWith");
                    return Ok(Expr::EndsWith(operand, s));
                }
                if self.peek() == Some(&Tok::LParen) {
                    return Err(FilterError::Unsupported(format!(
                        "An unknown function with name '{w}' was found."
                    )));
                }
                self.pos -= 1;
                self.comparison()
            }
            _ => Err(self.syntax("expression expected")),
        }
    }

    /// A property path, the lambda variable, or `coll/any(x: …)`.
    fn path(&mut self) -> Result<PathOrAny, FilterError> {
        let Some(Tok::Word(first)) = self.next() else {
            return Err(self.syntax("property expected"));
        };
        if self.var.as_deref() == Some(first.as_str()) {
            if self.peek() == Some(&Tok::Slash) {
                self.pos += 1;
                let Some(Tok::Word(member)) = self.next() else {
                    return Err(self.syntax("member expected"));
                };
                return Ok(PathOrAny::Operand(Operand::Var(Some(member))));
            }
            return Ok(PathOrAny::Operand(Operand::Var(None)));
        }
        let index = resolve_prop(&first)?;
        if self.peek() == Some(&Tok::Slash) {
            self.pos += 1;
            let Some(Tok::Word(func)) = self.next() else {
                return Err(self.syntax("member expected"));
            };
            if func == "$count"
                && matches!(
                    PROPS.get(index).map(|p| p.kind),
                    Some(Kind::StrList | Kind::Json)
                )
            {
                self.needs.advanced.get_or_insert("$count");
                return Ok(PathOrAny::Operand(Operand::Count(index)));
            }
            if index == crate::user::idx::CIPP_USER_EXTENSION {
                return Ok(PathOrAny::Operand(Operand::Member(index, func)));
            }
            if !func.eq_ignore_ascii_case("any") {
                return Err(FilterError::Unsupported(format!(
                    "Unsupported or invalid query filter clause specified for property '{}' of resource 'User'.",
                    PROPS.get(index).map_or("", |p| p.name)
                )));
            }
            self.expect(Tok::LParen, "'(' expected")?;
            let Some(Tok::Word(var)) = self.next() else {
                return Err(self.syntax("lambda variable expected"));
            };
            self.expect(Tok::Colon, "':' expected")?;
            let saved = self.var.replace(var);
            let body = self.or()?;
            self.var = saved;
            self.expect(Tok::RParen, "')' expected")?;
            return Ok(PathOrAny::Any(index, body));
        }
        Ok(PathOrAny::Operand(Operand::Prop(index)))
    }

    fn operand(&mut self) -> Result<Operand, FilterError> {
        match self.path()? {
            PathOrAny::Operand(o) => Ok(o),
            PathOrAny::Any(..) => Err(self.syntax("property expected")),
        }
    }

    fn literal(&mut self) -> Result<Lit, FilterError> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Lit::Str(s)),
            Some(Tok::Word(w)) => {
                let lower = w.to_ascii_lowercase();
                Ok(match lower.as_str() {
                    "true" => Lit::Bool(true),
                    "false" => Lit::Bool(false),
                    "null" => Lit::Null,
                    _ if is_guid(&w) => Lit::Bare(lower),
                    _ => match w.parse::<f64>() {
                        Ok(n) => Lit::Num(n),
                        Err(_) if w.starts_with(|c: char| c.is_ascii_digit()) => Lit::Bare(w),
                        Err(_) => return Err(FilterError::UnknownProperty(w)),
                    },
                })
            }
            _ => Err(self.syntax("literal expected")),
        }
    }

    fn comparison(&mut self) -> Result<Expr, FilterError> {
        let operand = match self.path()? {
            PathOrAny::Any(index, body) => return Ok(Expr::Any(index, Box::new(body))),
            PathOrAny::Operand(o) => o,
        };
        let Some(Tok::Word(op)) = self.next() else {
            return Err(self.syntax("operator expected"));
        };
        let op = match op.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "ne" => {
                self.needs.advanced.get_or_insert("ne");
                Op::Ne
            }
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            "in" => {
                self.expect(Tok::LParen, "'(' expected")?;
                let mut items = vec![self.literal()?];
                while self.peek() == Some(&Tok::Comma) {
                    self.pos += 1;
                    items.push(self.literal()?);
                }
                self.expect(Tok::RParen, "')' expected")?;
                return Ok(Expr::In(operand, items));
            }
            other => {
                return Err(FilterError::Syntax(format!(
                    "Syntax error: unknown operator '{other}' at position {} in '{}'.",
                    self.pos, self.input
                )));
            }
        };
        let lit = self.literal()?;
        Ok(Expr::Cmp(operand, op, lit))
    }
}

enum PathOrAny {
    Operand(Operand),
    Any(usize, Expr),
}

fn resolve_prop(name: &str) -> Result<usize, FilterError> {
    match Field::resolve(name) {
        Some(Field::Stored(i)) if PROPS.get(i).is_some_and(|p| p.name != "passwordProfile") => {
            Ok(i)
        }
        Some(field) => Err(FilterError::Unsupported(format!(
            "Unsupported or invalid query filter clause specified for property '{}' of resource 'User'.",
            field.name()
        ))),
        None => Err(FilterError::UnknownProperty(name.to_owned())),
    }
}

/// Parses a filter; an empty or blank filter means "no filter".
pub(crate) fn parse(input: &str) -> Result<Option<(Expr, Needs)>, FilterError> {
    if input.trim().is_empty() {
        return Ok(None);
    }
    let toks = tokenize(input)?;
    let mut p = Parser {
        toks,
        pos: 0,
        input,
        var: None,
        needs: Needs::default(),
    };
    let expr = p.or()?;
    if p.pos < p.toks.len() {
        return Err(p.syntax("unexpected token"));
    }
    Ok(Some((expr, p.needs)))
}

fn lit_matches(value: &Value, op: Op, lit: &Lit) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (value, lit) {
        (Value::Null, Lit::Null) => Some(Ordering::Equal),
        (_, Lit::Null) | (Value::Null, _) => None,
        (Value::Bool(a), Lit::Bool(b)) => Some(a.cmp(b)),
        (Value::String(a), Lit::Str(b) | Lit::Bare(b)) => {
            Some(a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase()))
        }
        (Value::Number(a), Lit::Num(b)) => a.as_f64().and_then(|a| a.partial_cmp(b)),
        _ => None,
    };
    match op {
        Op::Eq => ord == Some(Ordering::Equal),
        Op::Ne => ord != Some(Ordering::Equal),
        Op::Gt => ord == Some(Ordering::Greater),
        Op::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
        Op::Lt => ord == Some(Ordering::Less),
        Op::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
    }
}

fn operand_value<'v>(operand: &Operand, user: &'v User, item: Option<&'v Value>) -> Value {
    match operand {
        Operand::Prop(i) => user.get(*i).clone(),
        Operand::Count(i) => Value::from(user.get(*i).as_array().map_or(0, Vec::len)),
        Operand::Member(i, member) => user
            .get(*i)
            .get(member.as_str())
            .cloned()
            .unwrap_or(Value::Null),
        Operand::Var(None) => item.cloned().unwrap_or(Value::Null),
        Operand::Var(Some(member)) => item
            .and_then(|v| v.get(member.as_str()))
            .cloned()
            .unwrap_or(Value::Null),
    }
}

fn eval_inner(expr: &Expr, user: &User, item: Option<&Value>) -> bool {
    match expr {
        Expr::And(a, b) => eval_inner(a, user, item) && eval_inner(b, user, item),
        Expr::Or(a, b) => eval_inner(a, user, item) || eval_inner(b, user, item),
        Expr::Not(a) => !eval_inner(a, user, item),
        Expr::Cmp(o, op, lit) => lit_matches(&operand_value(o, user, item), *op, lit),
        Expr::In(o, lits) => {
            let v = operand_value(o, user, item);
            lits.iter().any(|l| lit_matches(&v, Op::Eq, l))
        }
        Expr::StartsWith(o, s) => operand_value(o, user, item)
            .as_str()
            .is_some_and(|v| v.to_ascii_lowercase().starts_with(&s.to_ascii_lowercase())),
        Expr::EndsWith(o, s) => operand_value(o, user, item)
            .as_str()
            .is_some_and(|v| v.to_ascii_lowercase().ends_with(&s.to_ascii_lowercase())),
        Expr::Any(i, body) => match user.get(*i) {
            Value::Array(items) => items.iter().any(|it| eval_inner(body, user, Some(it))),
            _ => false,
        },
    }
}

pub(crate) fn eval(expr: &Expr, user: &User) -> bool {
    eval_inner(expr, user, None)
}

/// Collection properties can only be filtered through `any`.
pub(crate) fn check_shapes(expr: &Expr) -> Result<(), FilterError> {
    let bad = |i: &usize| {
        FilterError::Unsupported(format!(
            "Unsupported or invalid query filter clause specified for property '{}' of resource 'User'.",
            PROPS.get(*i).map_or("", |p| p.name)
        ))
    };
    match expr {
        Expr::And(a, b) | Expr::Or(a, b) => {
            check_shapes(a)?;
            check_shapes(b)
        }
        Expr::Not(a) => check_shapes(a),
        Expr::Cmp(Operand::Prop(i), ..)
        | Expr::In(Operand::Prop(i), _)
        | Expr::StartsWith(Operand::Prop(i), _)
        | Expr::EndsWith(Operand::Prop(i), _) => {
            if matches!(
                PROPS.get(*i).map(|p| p.kind),
                Some(Kind::StrList | Kind::Json)
            ) {
                Err(bad(i))
            } else {
                Ok(())
            }
        }
        Expr::Any(i, _) => {
            if matches!(
                PROPS.get(*i).map(|p| p.kind),
                Some(Kind::StrList | Kind::Json)
            ) {
                Ok(())
            } else {
                Err(bad(i))
            }
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn user() -> User {
        let mut u = User::new();
        u.set_named("displayName", json!("Adele Vance"));
        u.set_named("accountEnabled", json!(false));
        u.set_named("userType", json!("Member"));
        u.set_named(
            "assignedLicenses",
            json!([{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900", "disabledPlans": []}]),
        );
        u.set_named("proxyAddresses", json!(["SMTP:adele@contoso.example"]));
        u
    }

    fn matches(f: &str) -> bool {
        let (e, _) = parse(f).unwrap().unwrap();
        check_shapes(&e).unwrap();
        eval(&e, &user())
    }

    #[test]
    fn simple_comparisons_and_functions_evaluate() {
        assert!(matches("accountEnabled eq false"));
        assert!(matches("startswith(displayName,'adele')"));
        assert!(!matches("userType eq 'Guest'"));
        assert!(matches(
            "(userType eq 'Guest' or accountEnabled eq false) and displayName ne null"
        ));
        assert!(matches("jobTitle eq null"));
        assert!(matches("userType in ('Guest','Member')"));
    }

    #[test]
    fn lambdas_over_collections_evaluate() {
        assert!(matches(
            "assignedLicenses/any(x:x/skuId eq 6fd2c87f-b296-42f0-b197-1e91e994b900)"
        ));
        assert!(matches("proxyAddresses/any(p:startswith(p,'smtp:adele'))"));
        assert!(!matches(
            "assignedLicenses/any(x:x/skuId eq cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46)"
        ));
    }

    #[test]
    fn collection_counts_compare_as_numbers_in_advanced_mode() {
        assert!(matches("assignedLicenses/$count ne 0"));
        assert!(matches("assignedLicenses/$count eq 1"));
        assert!(!matches("proxyAddresses/$count gt 1"));
        let (_, needs) = parse("assignedLicenses/$count eq 0").unwrap().unwrap();
        assert!(needs.advanced.is_some());
    }

    #[test]
    fn advanced_operators_are_flagged() {
        let (_, needs) = parse("displayName ne 'x'").unwrap().unwrap();
        assert_eq!(needs.advanced, Some("ne"));
        let (_, needs) = parse("endswith(mail,'@x.com')").unwrap().unwrap();
        assert_eq!(needs.advanced, Some("endsWith"));
    }

    #[test]
    fn bad_filters_are_refused() {
        assert!(matches!(
            parse("displayName eq"),
            Err(FilterError::Syntax(_))
        ));
        assert!(matches!(
            parse("nosuch eq 'x'"),
            Err(FilterError::UnknownProperty(_))
        ));
        assert!(matches!(
            parse("contains(displayName,'x')"),
            Err(FilterError::Unsupported(_))
        ));
        assert!(parse("").unwrap().is_none());
    }
}
