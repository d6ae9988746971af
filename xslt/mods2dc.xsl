<?xml version="1.0" encoding="UTF-8"?>
<!--
  mods2dc.xsl - crosswalk one MODS 3.x record to OAI-PMH simple Dublin Core
  (metadataPrefix oai_dc).

  Follows the Library of Congress "MODS to Dublin Core Metadata Element Set
  Mapping", version 3 (2012). Where the mapping leaves a choice open, the
  decision taken here is documented in xslt/README.md.

  Processor: XSLT 1.0 only (libxslt). No extension functions, no document(),
  no xsl:message. The stylesheet never recurses over the input tree, so
  deeply nested input cannot exhaust the template stack.

  Input:  a document whose root is mods:mods, or mods:modsCollection (the
          first mods:mods child is used). Any other root gives an empty but
          valid oai_dc:dc.
  Output: exactly one oai_dc:dc element, elements in the DCMES order
          (title, creator, subject, description, publisher, contributor,
          date, type, format, identifier, source, language, relation,
          coverage, rights). Every value is whitespace-normalised; no dc
          element is ever written empty.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:mods="http://www.loc.gov/mods/v3"
    xmlns:xlink="http://www.w3.org/1999/xlink"
    xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    exclude-result-prefixes="mods xlink">

  <xsl:output method="xml" encoding="UTF-8" omit-xml-declaration="yes" indent="no"/>

  <!-- Duplicate suppression: a value copied from the record is written only
       for the first node (document order) carrying the same normalised text
       for the same dc element (e.g. two identical physicalDescription/form). -->
  <xsl:key name="dup-identifier"
      match="mods:mods/mods:identifier[not(@invalid = 'yes')] | mods:mods/mods:location/mods:url"
      use="normalize-space(.)"/>
  <xsl:key name="dup-format"
      match="mods:mods/mods:physicalDescription/mods:form
             | mods:mods/mods:physicalDescription/mods:extent
             | mods:mods/mods:physicalDescription/mods:internetMediaType"
      use="normalize-space(.)"/>
  <xsl:key name="dup-description"
      match="mods:mods/mods:abstract | mods:mods/mods:tableOfContents | mods:mods/mods:note"
      use="normalize-space(.)"/>
  <xsl:key name="dup-publisher" match="mods:mods/mods:originInfo/mods:publisher"
      use="normalize-space(.)"/>
  <xsl:key name="dup-genre" match="mods:mods/mods:genre" use="normalize-space(.)"/>
  <xsl:key name="dup-classification" match="mods:mods/mods:classification"
      use="normalize-space(.)"/>
  <xsl:key name="dup-language" match="mods:mods/mods:language/mods:languageTerm"
      use="concat(@type, '|', normalize-space(.))"/>

  <!-- Case folding for comparisons of controlled values (roles, event types). -->
  <xsl:variable name="UPPER" select="'ABCDEFGHIJKLMNOPQRSTUVWXYZ'"/>
  <xsl:variable name="LOWER" select="'abcdefghijklmnopqrstuvwxyz'"/>

  <!-- ================================================================== -->
  <!-- Entry point                                                         -->
  <!-- ================================================================== -->

  <xsl:template match="/">
    <oai_dc:dc xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/oai_dc/ http://www.openarchives.org/OAI/2.0/oai_dc.xsd">
      <xsl:choose>
        <xsl:when test="mods:mods">
          <xsl:apply-templates select="mods:mods" mode="record"/>
        </xsl:when>
        <xsl:when test="mods:modsCollection/mods:mods">
          <xsl:apply-templates select="mods:modsCollection/mods:mods[1]" mode="record"/>
        </xsl:when>
      </xsl:choose>
    </oai_dc:dc>
  </xsl:template>

  <!-- One MODS record: emit the fifteen DC elements in DCMES order. Only
       direct children of mods:mods are read for the described resource;
       nested relatedItem/subject content is used only where the mapping
       says so. -->
  <xsl:template match="mods:mods" mode="record">

    <!-- title: untyped titleInfo first, then the typed ones -->
    <xsl:for-each select="mods:titleInfo[not(@type)]">
      <xsl:call-template name="dc">
        <xsl:with-param name="el" select="'title'"/>
        <xsl:with-param name="v"><xsl:call-template name="title-string"/></xsl:with-param>
      </xsl:call-template>
    </xsl:for-each>
    <xsl:for-each select="mods:titleInfo[@type]">
      <xsl:call-template name="dc">
        <xsl:with-param name="el" select="'title'"/>
        <xsl:with-param name="v"><xsl:call-template name="title-string"/></xsl:with-param>
      </xsl:call-template>
    </xsl:for-each>

    <!-- creator: names whose role says creator/author -->
    <xsl:for-each select="mods:name">
      <xsl:variable name="is-creator">
        <xsl:call-template name="is-creator"/>
      </xsl:variable>
      <xsl:if test="$is-creator = 'yes'">
        <xsl:call-template name="dc">
          <xsl:with-param name="el" select="'creator'"/>
          <xsl:with-param name="v"><xsl:call-template name="name-string"/></xsl:with-param>
        </xsl:call-template>
      </xsl:if>
    </xsl:for-each>

    <!-- subject: one value per mods:subject (its parts joined with a double hyphen),
         then classification -->
    <xsl:for-each select="mods:subject">
      <xsl:call-template name="dc">
        <xsl:with-param name="el" select="'subject'"/>
        <xsl:with-param name="v"><xsl:call-template name="subject-string"/></xsl:with-param>
      </xsl:call-template>
    </xsl:for-each>
    <xsl:for-each select="mods:classification[generate-id() = generate-id(key('dup-classification', normalize-space(.))[1])]">
      <xsl:call-template name="dc">
        <xsl:with-param name="el" select="'subject'"/>
        <xsl:with-param name="v" select="."/>
      </xsl:call-template>
    </xsl:for-each>

    <!-- description: abstract, tableOfContents, note (in that order) -->
    <xsl:for-each select="(mods:abstract | mods:tableOfContents)
                          [generate-id() = generate-id(key('dup-description', normalize-space(.))[1])]">
      <xsl:call-template name="dc">
        <xsl:with-param name="el" select="'description'"/>
        <xsl:with-param name="v" select="."/>
      </xsl:call-template>
    </xsl:for-each>
    <xsl:for-each select="mods:note[generate-id() = generate-id(key('dup-description', normalize-space(.))[1])]">
      <xsl:call-template name="dc">
        <xsl:with-param name="el" select="'description'"/>
        <xsl:with-param name="v" select="."/>
      </xsl:call-template>
    </xsl:for-each>

    <!-- publisher: publishers of the work first, then the digitising
         institution (originInfo[@eventType='digitization']) -->
    <xsl:for-each select="mods:originInfo">
      <xsl:variable name="digi">
        <xsl:call-template name="is-digitization"/>
      </xsl:variable>
      <xsl:if test="$digi != 'yes'">
        <xsl:for-each select="mods:publisher[generate-id() = generate-id(key('dup-publisher', normalize-space(.))[1])]">
          <xsl:call-template name="dc">
            <xsl:with-param name="el" select="'publisher'"/>
            <xsl:with-param name="v" select="."/>
          </xsl:call-template>
        </xsl:for-each>
      </xsl:if>
    </xsl:for-each>
    <xsl:for-each select="mods:originInfo">
      <xsl:variable name="digi">
        <xsl:call-template name="is-digitization"/>
      </xsl:variable>
      <xsl:if test="$digi = 'yes'">
        <xsl:for-each select="mods:publisher[generate-id() = generate-id(key('dup-publisher', normalize-space(.))[1])]">
          <xsl:call-template name="dc">
            <xsl:with-param name="el" select="'publisher'"/>
            <xsl:with-param name="v" select="."/>
          </xsl:call-template>
        </xsl:for-each>
      </xsl:if>
    </xsl:for-each>

    <!-- contributor: every other name -->
    <xsl:for-each select="mods:name">
      <xsl:variable name="is-creator">
        <xsl:call-template name="is-creator"/>
      </xsl:variable>
      <xsl:if test="$is-creator != 'yes'">
        <xsl:call-template name="dc">
          <xsl:with-param name="el" select="'contributor'"/>
          <xsl:with-param name="v"><xsl:call-template name="name-string"/></xsl:with-param>
        </xsl:call-template>
      </xsl:if>
    </xsl:for-each>

    <!-- date -->
    <xsl:call-template name="dates"/>

    <!-- type: typeOfResource (DCMI Type vocabulary), then genre -->
    <xsl:for-each select="mods:typeOfResource">
      <xsl:call-template name="type-of-resource"/>
    </xsl:for-each>
    <xsl:for-each select="mods:genre[generate-id() = generate-id(key('dup-genre', normalize-space(.))[1])]">
      <xsl:call-template name="dc">
        <xsl:with-param name="el" select="'type'"/>
        <xsl:with-param name="v" select="."/>
      </xsl:call-template>
    </xsl:for-each>

    <!-- format: physicalDescription/form, extent, internetMediaType -->
    <xsl:for-each select="(mods:physicalDescription/mods:form
                           | mods:physicalDescription/mods:extent
                           | mods:physicalDescription/mods:internetMediaType)
                          [generate-id() = generate-id(key('dup-format', normalize-space(.))[1])]">
      <xsl:call-template name="dc">
        <xsl:with-param name="el" select="'format'"/>
        <xsl:with-param name="v" select="."/>
      </xsl:call-template>
    </xsl:for-each>

    <!-- identifier: every identifier (not flagged invalid), value as given,
         then location/url -->
    <xsl:for-each select="mods:identifier[not(@invalid = 'yes')]
                          [generate-id() = generate-id(key('dup-identifier', normalize-space(.))[1])]">
      <xsl:call-template name="dc">
        <xsl:with-param name="el" select="'identifier'"/>
        <xsl:with-param name="v" select="."/>
      </xsl:call-template>
    </xsl:for-each>
    <xsl:for-each select="mods:location/mods:url
                          [generate-id() = generate-id(key('dup-identifier', normalize-space(.))[1])]">
      <xsl:call-template name="dc">
        <xsl:with-param name="el" select="'identifier'"/>
        <xsl:with-param name="v" select="."/>
      </xsl:call-template>
    </xsl:for-each>

    <!-- source: relatedItem type="original" -->
    <xsl:for-each select="mods:relatedItem[@type = 'original']">
      <xsl:call-template name="dc">
        <xsl:with-param name="el" select="'source'"/>
        <xsl:with-param name="v"><xsl:call-template name="related-string"/></xsl:with-param>
      </xsl:call-template>
    </xsl:for-each>

    <!-- language: code terms as given; text term only if no code term -->
    <xsl:for-each select="mods:language">
      <xsl:choose>
        <xsl:when test="mods:languageTerm[@type = 'code'][normalize-space(.) != '']">
          <xsl:for-each select="mods:languageTerm[@type = 'code']
                                [generate-id() = generate-id(key('dup-language', concat(@type, '|', normalize-space(.)))[1])]">
            <xsl:call-template name="dc">
              <xsl:with-param name="el" select="'language'"/>
              <xsl:with-param name="v" select="."/>
            </xsl:call-template>
          </xsl:for-each>
        </xsl:when>
        <xsl:otherwise>
          <xsl:for-each select="mods:languageTerm
                                [generate-id() = generate-id(key('dup-language', concat(@type, '|', normalize-space(.)))[1])]">
            <xsl:call-template name="dc">
              <xsl:with-param name="el" select="'language'"/>
              <xsl:with-param name="v" select="."/>
            </xsl:call-template>
          </xsl:for-each>
        </xsl:otherwise>
      </xsl:choose>
    </xsl:for-each>

    <!-- relation: every other relatedItem -->
    <xsl:for-each select="mods:relatedItem[not(@type = 'original')]">
      <xsl:variable name="base">
        <xsl:call-template name="related-string"/>
      </xsl:variable>
      <xsl:choose>
        <xsl:when test="@type = 'host' and normalize-space($base) != ''">
          <xsl:variable name="num">
            <xsl:call-template name="host-part-number"/>
          </xsl:variable>
          <xsl:call-template name="dc">
            <xsl:with-param name="el" select="'relation'"/>
            <xsl:with-param name="v">
              <xsl:call-template name="join">
                <xsl:with-param name="a" select="$base"/>
                <xsl:with-param name="b" select="$num"/>
                <xsl:with-param name="sep" select="'; '"/>
              </xsl:call-template>
            </xsl:with-param>
          </xsl:call-template>
        </xsl:when>
        <xsl:otherwise>
          <xsl:call-template name="dc">
            <xsl:with-param name="el" select="'relation'"/>
            <xsl:with-param name="v" select="$base"/>
          </xsl:call-template>
        </xsl:otherwise>
      </xsl:choose>
    </xsl:for-each>

    <!-- coverage: subject/geographic, temporal, hierarchicalGeographic,
         cartographics/coordinates -->
    <xsl:for-each select="mods:subject/mods:geographic
                          | mods:subject/mods:temporal
                          | mods:subject/mods:hierarchicalGeographic
                          | mods:subject/mods:cartographics/mods:coordinates">
      <xsl:call-template name="dc">
        <xsl:with-param name="el" select="'coverage'"/>
        <xsl:with-param name="v"><xsl:call-template name="subject-part"/></xsl:with-param>
      </xsl:call-template>
    </xsl:for-each>

    <!-- rights: accessCondition text, or its xlink:href when it has none -->
    <xsl:for-each select="mods:accessCondition">
      <xsl:call-template name="dc">
        <xsl:with-param name="el" select="'rights'"/>
        <xsl:with-param name="v">
          <xsl:choose>
            <xsl:when test="normalize-space(.) != ''"><xsl:value-of select="."/></xsl:when>
            <xsl:otherwise><xsl:value-of select="@xlink:href"/></xsl:otherwise>
          </xsl:choose>
        </xsl:with-param>
      </xsl:call-template>
    </xsl:for-each>

    <!-- recordInfo, part, extension, targetAudience, originInfo/place,
         edition, issuance, frequency, location/physicalLocation and
         shelfLocator are deliberately not mapped. -->
  </xsl:template>

  <!-- ================================================================== -->
  <!-- Output helper                                                       -->
  <!-- ================================================================== -->

  <!-- Write dc:{el} holding normalize-space($v); write nothing when that is
       empty. Text is written with xsl:value-of, so '<' and '&' are escaped
       by the serialiser. -->
  <xsl:template name="dc">
    <xsl:param name="el"/>
    <xsl:param name="v"/>
    <xsl:variable name="text" select="normalize-space($v)"/>
    <xsl:if test="$text != ''">
      <xsl:element name="dc:{$el}" namespace="http://purl.org/dc/elements/1.1/">
        <xsl:value-of select="$text"/>
      </xsl:element>
    </xsl:if>
  </xsl:template>

  <!-- Join two strings with a separator, skipping the separator when either
       side is empty. If $a already ends in punctuation and $sep starts with
       punctuation (". ", ": ", "; "), the separator's punctuation is dropped
       so that "Title." + ". " + "Part" gives "Title. Part", not "Title.. Part". -->
  <xsl:template name="join">
    <xsl:param name="a"/>
    <xsl:param name="b"/>
    <xsl:param name="sep"/>
    <xsl:variable name="na" select="normalize-space($a)"/>
    <xsl:variable name="nb" select="normalize-space($b)"/>
    <xsl:variable name="punct" select="'.:;,!?'"/>
    <xsl:choose>
      <xsl:when test="$na = ''"><xsl:value-of select="$nb"/></xsl:when>
      <xsl:when test="$nb = ''"><xsl:value-of select="$na"/></xsl:when>
      <xsl:when test="contains($punct, substring($sep, 1, 1))
                      and contains($punct, substring($na, string-length($na), 1))">
        <xsl:value-of select="concat($na, substring($sep, 2), $nb)"/>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="concat($na, $sep, $nb)"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- ================================================================== -->
  <!-- Title                                                               -->
  <!-- ================================================================== -->

  <!-- Context: a titleInfo. nonSort + title, ": " subTitle, ". " partNumber,
       ". " partName (repeated subelements in document order). -->
  <xsl:template name="title-string">
    <xsl:variable name="ns" select="normalize-space(mods:nonSort[1])"/>
    <xsl:variable name="t" select="normalize-space(mods:title[1])"/>
    <xsl:variable name="lead">
      <xsl:choose>
        <xsl:when test="$ns = ''"><xsl:value-of select="$t"/></xsl:when>
        <xsl:when test="$t = ''"><xsl:value-of select="$ns"/></xsl:when>
        <!-- elided articles ("L'", "d'") and hyphenated ones attach directly -->
        <xsl:when test="contains(&quot;'&#8217;-&quot;, substring($ns, string-length($ns), 1))">
          <xsl:value-of select="concat($ns, $t)"/>
        </xsl:when>
        <xsl:otherwise><xsl:value-of select="concat($ns, ' ', $t)"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="sub">
      <xsl:for-each select="mods:subTitle[normalize-space(.) != '']">
        <xsl:if test="position() > 1"><xsl:text> : </xsl:text></xsl:if>
        <xsl:value-of select="normalize-space(.)"/>
      </xsl:for-each>
    </xsl:variable>
    <xsl:variable name="parts">
      <xsl:for-each select="(mods:partNumber | mods:partName)[normalize-space(.) != '']">
        <xsl:if test="position() > 1"><xsl:text>. </xsl:text></xsl:if>
        <xsl:value-of select="normalize-space(.)"/>
      </xsl:for-each>
    </xsl:variable>
    <xsl:variable name="with-sub">
      <xsl:call-template name="join">
        <xsl:with-param name="a" select="$lead"/>
        <xsl:with-param name="b" select="$sub"/>
        <xsl:with-param name="sep" select="': '"/>
      </xsl:call-template>
    </xsl:variable>
    <xsl:call-template name="join">
      <xsl:with-param name="a" select="$with-sub"/>
      <xsl:with-param name="b" select="$parts"/>
      <xsl:with-param name="sep" select="'. '"/>
    </xsl:call-template>
  </xsl:template>

  <!-- ================================================================== -->
  <!-- Names                                                               -->
  <!-- ================================================================== -->

  <!-- Context: a name. 'yes' when any roleTerm is creator/author (text) or
       cre/aut (MARC relator code); compared case-insensitively. -->
  <xsl:template name="is-creator">
    <xsl:variable name="hit"
        select="mods:role/mods:roleTerm[
                  translate(normalize-space(.), $UPPER, $LOWER) = 'creator'
                  or translate(normalize-space(.), $UPPER, $LOWER) = 'author'
                  or translate(normalize-space(.), $UPPER, $LOWER) = 'cre'
                  or translate(normalize-space(.), $UPPER, $LOWER) = 'aut']"/>
    <xsl:if test="$hit">yes</xsl:if>
  </xsl:template>

  <!-- Context: a name (top level or inside subject).
       displayForm if present; otherwise "family, given[, termsOfAddress]";
       otherwise the untyped nameParts joined (", ", or ". " for corporate
       and conference names). Dates (namePart type="date") are appended
       after ", " unless the chosen form already contains them. -->
  <xsl:template name="name-string">
    <xsl:variable name="base">
      <xsl:choose>
        <xsl:when test="mods:displayForm[normalize-space(.) != '']">
          <xsl:value-of select="normalize-space(mods:displayForm[normalize-space(.) != ''][1])"/>
        </xsl:when>
        <xsl:when test="mods:namePart[@type = 'family' or @type = 'given'][normalize-space(.) != '']">
          <xsl:variable name="family">
            <xsl:for-each select="mods:namePart[@type = 'family'][normalize-space(.) != '']">
              <xsl:if test="position() > 1"><xsl:text> </xsl:text></xsl:if>
              <xsl:value-of select="normalize-space(.)"/>
            </xsl:for-each>
          </xsl:variable>
          <xsl:variable name="given">
            <xsl:for-each select="mods:namePart[@type = 'given'][normalize-space(.) != '']">
              <xsl:if test="position() > 1"><xsl:text> </xsl:text></xsl:if>
              <xsl:value-of select="normalize-space(.)"/>
            </xsl:for-each>
          </xsl:variable>
          <xsl:variable name="fg">
            <xsl:call-template name="join">
              <xsl:with-param name="a" select="$family"/>
              <xsl:with-param name="b" select="$given"/>
              <xsl:with-param name="sep" select="', '"/>
            </xsl:call-template>
          </xsl:variable>
          <xsl:call-template name="join">
            <xsl:with-param name="a" select="$fg"/>
            <xsl:with-param name="b" select="mods:namePart[@type = 'termsOfAddress'][1]"/>
            <xsl:with-param name="sep" select="', '"/>
          </xsl:call-template>
        </xsl:when>
        <xsl:otherwise>
          <xsl:variable name="sep">
            <xsl:choose>
              <xsl:when test="@type = 'corporate' or @type = 'conference'">. </xsl:when>
              <xsl:otherwise>, </xsl:otherwise>
            </xsl:choose>
          </xsl:variable>
          <xsl:for-each select="mods:namePart[not(@type) or @type = 'termsOfAddress'][normalize-space(.) != '']">
            <xsl:if test="position() > 1"><xsl:value-of select="$sep"/></xsl:if>
            <xsl:value-of select="normalize-space(.)"/>
          </xsl:for-each>
        </xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="date" select="normalize-space(mods:namePart[@type = 'date'][normalize-space(.) != ''][1])"/>
    <xsl:choose>
      <xsl:when test="normalize-space($base) = ''"/>
      <xsl:when test="$date != '' and not(contains($base, $date))">
        <xsl:value-of select="concat($base, ', ', $date)"/>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$base"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- ================================================================== -->
  <!-- Dates                                                               -->
  <!-- ================================================================== -->

  <!-- Context: an originInfo. 'yes' for the digitisation event. -->
  <xsl:template name="is-digitization">
    <xsl:if test="translate(normalize-space(@eventType), $UPPER, $LOWER) = 'digitization'
                  or translate(normalize-space(@eventType), $UPPER, $LOWER) = 'digitisation'">yes</xsl:if>
  </xsl:template>

  <!-- Context: mods:mods. Candidate dates are dateIssued, dateCreated,
       dateCaptured and dateOther of every originInfo that is not the
       digitisation event. If one of them carries keyDate="yes", only that
       date (with its range partner) is written; otherwise every candidate
       is written, ranges collapsed into one value. -->
  <xsl:template name="dates">
    <xsl:variable name="cands"
        select="mods:originInfo[not(translate(normalize-space(@eventType), $UPPER, $LOWER) = 'digitization'
                                    or translate(normalize-space(@eventType), $UPPER, $LOWER) = 'digitisation')]
                /*[self::mods:dateIssued or self::mods:dateCreated
                   or self::mods:dateCaptured or self::mods:dateOther]
                  [normalize-space(.) != '']"/>
    <xsl:variable name="key" select="$cands[@keyDate = 'yes']"/>
    <xsl:choose>
      <xsl:when test="$key">
        <xsl:for-each select="$key[1]">
          <xsl:variable name="lname" select="local-name()"/>
          <!-- a keyDate on the end point of a range: write the whole range -->
          <xsl:variable name="start"
              select="self::*[@point = 'end']/preceding-sibling::*[local-name() = $lname
                      and namespace-uri() = 'http://www.loc.gov/mods/v3'][@point][1][@point = 'start']"/>
          <xsl:for-each select="$start | self::*[not($start)]">
            <xsl:call-template name="dc">
              <xsl:with-param name="el" select="'date'"/>
              <xsl:with-param name="v"><xsl:call-template name="date-value"/></xsl:with-param>
            </xsl:call-template>
          </xsl:for-each>
        </xsl:for-each>
      </xsl:when>
      <xsl:otherwise>
        <xsl:for-each select="$cands">
          <xsl:call-template name="dc">
            <xsl:with-param name="el" select="'date'"/>
            <xsl:with-param name="v"><xsl:call-template name="date-value"/></xsl:with-param>
          </xsl:call-template>
        </xsl:for-each>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- Context: a date element (or subject/temporal). Returns
         point="start" with a following point="end" sibling of the same
           name:   "start-end" ("start" alone when both are equal)
         point="end" right after such a start: '' (already written)
         anything else: the value itself. -->
  <xsl:template name="date-value">
    <xsl:variable name="me" select="normalize-space(.)"/>
    <xsl:variable name="lname" select="local-name()"/>
    <xsl:choose>
      <xsl:when test="@point = 'start'">
        <xsl:variable name="end"
            select="normalize-space(following-sibling::*[local-name() = $lname
                    and namespace-uri() = 'http://www.loc.gov/mods/v3'][@point][1][@point = 'end'])"/>
        <xsl:choose>
          <xsl:when test="$end = '' or $end = $me"><xsl:value-of select="$me"/></xsl:when>
          <xsl:otherwise><xsl:value-of select="concat($me, '-', $end)"/></xsl:otherwise>
        </xsl:choose>
      </xsl:when>
      <xsl:when test="@point = 'end'
                      and preceding-sibling::*[local-name() = $lname
                          and namespace-uri() = 'http://www.loc.gov/mods/v3'][@point][1][@point = 'start']"/>
      <xsl:otherwise><xsl:value-of select="$me"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- ================================================================== -->
  <!-- Type                                                                -->
  <!-- ================================================================== -->

  <!-- Context: a typeOfResource. collection="yes" adds "Collection"; the
       MODS value is mapped to the DCMI Type vocabulary where a term fits,
       otherwise written as given. -->
  <xsl:template name="type-of-resource">
    <xsl:variable name="v" select="translate(normalize-space(.), $UPPER, $LOWER)"/>
    <xsl:if test="@collection = 'yes'">
      <dc:type>Collection</dc:type>
    </xsl:if>
    <xsl:call-template name="dc">
      <xsl:with-param name="el" select="'type'"/>
      <xsl:with-param name="v">
        <xsl:choose>
          <xsl:when test="$v = 'text' or $v = 'notated music'">Text</xsl:when>
          <xsl:when test="$v = 'cartographic' or $v = 'cartographic material'">Image</xsl:when>
          <xsl:when test="$v = 'still image'">StillImage</xsl:when>
          <xsl:when test="$v = 'moving image'">MovingImage</xsl:when>
          <xsl:when test="starts-with($v, 'sound recording')">Sound</xsl:when>
          <xsl:when test="$v = 'three dimensional object'">PhysicalObject</xsl:when>
          <xsl:when test="$v = 'software, multimedia'">Software</xsl:when>
          <xsl:otherwise><xsl:value-of select="."/></xsl:otherwise>
        </xsl:choose>
      </xsl:with-param>
    </xsl:call-template>
  </xsl:template>

  <!-- ================================================================== -->
  <!-- Subject and coverage                                                -->
  <!-- ================================================================== -->

  <!-- Context: a subject. Its parts in document order, joined with a double hyphen
       (precoordinated heading kept as one string). -->
  <xsl:template name="subject-string">
    <xsl:variable name="joined">
      <xsl:for-each select="mods:topic | mods:geographic | mods:temporal | mods:name
                            | mods:titleInfo | mods:genre | mods:occupation
                            | mods:hierarchicalGeographic">
        <xsl:variable name="part">
          <xsl:call-template name="subject-part"/>
        </xsl:variable>
        <xsl:if test="normalize-space($part) != ''">
          <xsl:value-of select="concat('--', normalize-space($part))"/>
        </xsl:if>
      </xsl:for-each>
    </xsl:variable>
    <xsl:value-of select="substring($joined, 3)"/>
  </xsl:template>

  <!-- Context: one child of subject. -->
  <xsl:template name="subject-part">
    <xsl:choose>
      <xsl:when test="self::mods:name">
        <xsl:call-template name="name-string"/>
      </xsl:when>
      <xsl:when test="self::mods:titleInfo">
        <xsl:call-template name="title-string"/>
      </xsl:when>
      <xsl:when test="self::mods:temporal">
        <xsl:call-template name="date-value"/>
      </xsl:when>
      <xsl:when test="self::mods:hierarchicalGeographic">
        <xsl:for-each select="*[normalize-space(.) != '']">
          <xsl:if test="position() > 1">--</xsl:if>
          <xsl:value-of select="normalize-space(.)"/>
        </xsl:for-each>
      </xsl:when>
      <xsl:otherwise>
        <xsl:value-of select="normalize-space(.)"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- ================================================================== -->
  <!-- relatedItem                                                         -->
  <!-- ================================================================== -->

  <!-- Context: a relatedItem. Its title (untyped titleInfo preferred);
       without a title, the first identifier, else the first location/url,
       else the relatedItem's xlink:href. -->
  <xsl:template name="related-string">
    <xsl:variable name="title">
      <xsl:choose>
        <xsl:when test="mods:titleInfo[not(@type)]">
          <xsl:for-each select="mods:titleInfo[not(@type)][1]">
            <xsl:call-template name="title-string"/>
          </xsl:for-each>
        </xsl:when>
        <xsl:otherwise>
          <xsl:for-each select="mods:titleInfo[1]">
            <xsl:call-template name="title-string"/>
          </xsl:for-each>
        </xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:choose>
      <xsl:when test="normalize-space($title) != ''">
        <xsl:value-of select="normalize-space($title)"/>
      </xsl:when>
      <xsl:when test="mods:identifier[not(@invalid = 'yes')][normalize-space(.) != '']">
        <xsl:value-of select="normalize-space(mods:identifier[not(@invalid = 'yes')][normalize-space(.) != ''][1])"/>
      </xsl:when>
      <xsl:when test="mods:location/mods:url[normalize-space(.) != '']">
        <xsl:value-of select="normalize-space(mods:location/mods:url[normalize-space(.) != ''][1])"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:value-of select="normalize-space(@xlink:href)"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- Context: a relatedItem[@type='host']. The position of the described
       resource inside the host: the host's own part/detail/number, or, for
       the first host only, the record's top-level part/detail/number.
       Several numbers are joined with ", ", the volume number first. -->
  <xsl:template name="host-part-number">
    <xsl:variable name="own" select="mods:part/mods:detail/mods:number[normalize-space(.) != '']"/>
    <xsl:choose>
      <xsl:when test="$own">
        <xsl:for-each select="$own">
          <xsl:sort select="number(not(../@type = 'volume'))" data-type="number"/>
          <xsl:if test="position() > 1">, </xsl:if>
          <xsl:value-of select="normalize-space(.)"/>
        </xsl:for-each>
      </xsl:when>
      <xsl:when test="not(preceding-sibling::mods:relatedItem[@type = 'host'])">
        <xsl:for-each select="../mods:part/mods:detail/mods:number[normalize-space(.) != '']">
          <xsl:sort select="number(not(../@type = 'volume'))" data-type="number"/>
          <xsl:if test="position() > 1">, </xsl:if>
          <xsl:value-of select="normalize-space(.)"/>
        </xsl:for-each>
      </xsl:when>
    </xsl:choose>
  </xsl:template>

</xsl:stylesheet>
